// A group has one scheduler: its task table is where one sector's phases meet (each worker polls
// POST <scheduler_url>/acquire-task, and a taken task gets is_taken=1). A member naming another
// URL — one kept the notes' example 10.10.19.17 — polls a table the group's tasks are not in,
// and the phases only it takes wait forever.
import { StackValidationPolicy } from "@pulumi/policy";
import { groupsOf, hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { byValue, hostsSay } from "./helpers";

export const groupSchedulerMatches: StackValidationPolicy = {
    name: "group-scheduler-matches",
    description: "Every member of a production group polls the same scheduler (config.toml scheduler_url).",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const [id, members] of groupsOf(hostsOf(args.resources))) {
            const [most, ...others] = byValue(members, (m) => m.worker.schedulerUrl);
            for (const m of others.flatMap((o) => o.members)) {
                reportViolation(
                    `Group ${id}: host ${m.host}'s config.toml says scheduler_url = ${m.worker.schedulerUrl || "(none)"}, but ${hostsSay(most.members)} ${most.value}. A group's hosts take one sector's phases from one task table (each worker polls POST <scheduler_url>/acquire-task), so ${m.host} would never get this group's tasks and the phases it takes would wait. Fix: leave worker.schedulerUrl out on every member (it defaults to groups[].schedulerUrl), or set the same URL on all.`,
                    m.worker.urn,
                );
            }
        }
    },
};
