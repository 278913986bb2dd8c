// The stack's root folder (dev stack, tests): made first, so its delete runs last and removes
// the folders the other steps left empty (components/scripts/stack-root.sh).
import { StepEnv } from "../../contract/keys";
import { HostStep } from "./step";

export const RootEnv = { root: "SEALBENCH_STACK_ROOT" } as const;

export const rootStep: HostStep = {
    role: "root",
    applies: (host) => host.root !== undefined,
    args: (host) => ({ script: "stack-root.sh", env: { [StepEnv.host]: host.name, [RootEnv.root]: host.root ?? "" } }),
};
