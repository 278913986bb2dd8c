// The report as a person sees it: `npm run report` on the notes' logs (and a collect facts.json),
// opened in headless Chromium with JavaScript off; the bars' labels and values are read from
// the DOM, their drawn widths checked against the values, no request but the file itself is
// made, and a PNG screenshot is saved (its path printed) for a human to look at.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeNeeding } from "../support/docker";
import { P2, p2Log, P4_LOG, P4_OOM_LOG } from "../benchy/notes-logs";

const CHROMIUM = "/usr/bin/chromium";
const describeBrowser = describeNeeding("Chromium", fs.existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-report-"));
const logs = path.join(dir, "logs");
const out = path.join(dir, "report.html");
/** Kept after the run so a person can open it: the test prints where. */
const screenshot = path.join(os.tmpdir(), "sealbench-report.png");

const FACTS = {
    stack: "oci-bench",
    hosts: [
        {
            name: "bm1",
            target: "ssh",
            address: "10.0.0.2",
            facts: { cpus: 96, memoryGb: 768, bootDisk: "/dev/sda", numaNodes: ["0-47", "48-95"] },
            slots: [
                { slot: "p2-1", phase: "p2", cpuset: "2-47", cpus: 46, logDir: "/mnt/storage/bench/p2-1/logs" },
                { slot: "p34-1", phase: "p34", cpuset: "48-79", cpus: 32, memoryGb: 195, proofThreads: 5, logDir: "/mnt/storage/bench/p34-1/logs" },
            ],
        },
    ],
};

describeBrowser("the HTML report in a real browser", () => {
    let context: BrowserContext;
    let page: Page;
    const requests: string[] = [];

    beforeAll(async () => {
        fs.mkdirSync(logs);
        for (const [log, start, end] of P2) fs.writeFileSync(path.join(logs, log), p2Log(start, end));
        fs.writeFileSync(path.join(logs, "benchy-p34-32cpu-4bench-1.log"), P4_LOG);
        fs.writeFileSync(path.join(logs, "benchy-p34-32cpu-4bench-2.log"), P4_OOM_LOG);
        fs.writeFileSync(path.join(logs, "facts.json"), JSON.stringify(FACTS));
        const r = spawnSync("npx", ["tsx", "bin/report.ts", logs, "--out", out, "--title", "Notes' bench, July 2020"], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`npm run report failed (${r.status}): ${r.stderr}`);

        context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-chromium-")), {
            executablePath: CHROMIUM,
            headless: true,
            args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            // No script is needed to read the report: it is read with scripts off.
            javaScriptEnabled: false,
            viewport: { width: 1000, height: 800 },
        });
        context.on("request", (req) => requests.push(req.url()));
        page = await context.newPage();
        await page.goto(pathToFileURL(out).href, { waitUntil: "load" });
    }, 120_000);

    afterAll(async () => {
        await context?.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const bars = (chart: string) =>
        page.$$eval(`#${chart} g.bar`, (gs) =>
            gs.map((g) => {
                const rect = g.querySelector("rect")!.getBoundingClientRect();
                return { group: g.getAttribute("data-group"), kind: g.getAttribute("data-kind"), label: g.getAttribute("data-label"), value: Number(g.getAttribute("data-value")), text: g.querySelector("text.value")!.textContent, comparable: g.getAttribute("data-comparable") !== "false", width: rect.width };
            }),
        );

    it("p2: min, mean and max bars of each split, with the notes' durations as their labels", async () => {
        const p2 = await bars("durations-p2");
        expect(p2.map((b) => [b.group, b.kind, b.label])).toEqual([
            ["benchy-p2-23cpu", "min", "1:58:08"],
            ["benchy-p2-23cpu", "mean", "2:08:38"],
            ["benchy-p2-23cpu", "max", "2:13:59"],
            ["benchy-p2-30cpu", "min", "1:35:27"],
            ["benchy-p2-30cpu", "mean", "1:41:54"],
            ["benchy-p2-30cpu", "max", "1:45:59"],
            ["benchy-p2-46cpu", "min", "0:58:50"],
            ["benchy-p2-46cpu", "mean", "1:02:33"],
            ["benchy-p2-46cpu", "max", "1:06:15"],
        ]);
        // The drawn length is the value: every bar's width over its value is one same scale.
        const scale = p2[2].width / p2[2].value;
        for (const b of p2) expect(b.width / b.value).toBeCloseTo(scale, 4);
        expect(p2.map((b) => b.text)).toEqual(p2.map((b) => b.label));
    });

    it("sectors per hour per slot and per host; the 46-CPU split that never ran side by side is marked", async () => {
        const t = await bars("throughput-p2");
        const by = Object.fromEntries(t.map((b) => [`${b.group} ${b.kind}`, b]));
        // 23 CPUs: 4 slots over 02:35:20–05:10:47 (9327 s); per slot 3600 / mean (7718.25 s).
        expect(by["benchy-p2-23cpu per host"].label).toBe(((4 * 3600) / 9327).toFixed(2));
        expect(by["benchy-p2-23cpu per slot"].label).toBe((3600 / 7718.25).toFixed(2));
        expect(by["benchy-p2-30cpu per host"].label).toBe(((3 * 3600) / 6480).toFixed(2));
        expect(by["benchy-p2-23cpu per host"].comparable).toBe(true);
        expect(by["benchy-p2-46cpu per host"].comparable).toBe(false);
        expect(by["benchy-p2-46cpu per host"].text).toMatch(/\(not side by side\)$/);
        expect(await page.textContent("#phase-p2 ul.caveat")).toContain("benchy-p2-46cpu: not side by side: throughput not comparable");
    });

    it("the runs table shows copies, the failed C2 with its reason, and the p4 section", async () => {
        const rows = await page.$$eval("#phase-p2 table.runs tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
        expect(rows).toHaveLength(12);
        expect(rows.find((r) => r[0] === "benchy-p2-7742-task-1.log")![6]).toBe("copy of benchy-p2-46cpu-1.log (counted once)");
        const p4 = await page.$$eval("#phase-p4 table.runs tbody tr.failed td", (tds) => tds.map((td) => td.textContent));
        expect(p4[6]).toMatch(/^failed: line 3: panicked: index 42671800440 out of range for slice of length 42671800320.* — likely out of memory: C2 needs 45 GB/);
        expect((await bars("durations-p4")).map((b) => b.label)).toEqual(["0:48:40", "0:48:40", "0:48:40"]);
    });

    it("the hosts' facts and slot cpusets from collect", async () => {
        expect(await page.textContent("h3.host")).toBe("oci-bench / bm1 (ssh, 10.0.0.2)");
        expect(await page.$$eval("tr.slot", (trs) => trs.map((tr) => [tr.getAttribute("data-slot"), tr.querySelector(".cpuset")!.textContent]))).toEqual([
            ["p2-1", "2-47"],
            ["p34-1", "48-79"],
        ]);
        expect(await page.textContent("table.facts")).toContain("numaNodes0-47, 48-95");
    });

    it("is self-contained: no script, and no request but the file itself", async () => {
        expect(await page.$$("script")).toHaveLength(0);
        expect(requests).toEqual([pathToFileURL(out).href]);
    });

    it("saves a screenshot for a person to look at", async () => {
        await page.screenshot({ path: screenshot, fullPage: true });
        const png = fs.readFileSync(screenshot);
        expect(png.subarray(1, 4).toString()).toBe("PNG");
        expect(png.length).toBeGreaterThan(20_000);
        console.log(`report screenshot: ${screenshot}`);
    });
});
