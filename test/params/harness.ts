// The parameter tests' gateway fixture: a Range-capable HTTP server on loopback per suite, and a
// fresh place per test (support/parameters-run.ts runs the script there).
import { afterAll, afterEach, beforeAll } from "vitest";
import { RangeServer, ServedFile, startRangeServer } from "../../support/range-server";
import { Place, makePlace, cleanPlace } from "../../support/parameters-run";

/**
 * A gateway stand-in on 127.0.0.1 serving `files` by CID, and temp places that are cleaned after
 * each test: the set-up every parameters.sh test file shares. Call at the top of a test file.
 */
export function gatewayFixture<K extends string>(files: Record<K, ServedFile>, cid: (k: K) => string, prefix?: string) {
    let server: RangeServer;
    const places: Place[] = [];
    beforeAll(async () => {
        server = await startRangeServer(Object.fromEntries(Object.entries(files).map(([k, f]) => [cid(k as K), f as ServedFile])));
    });
    afterEach(async () => {
        for (const p of places.splice(0)) await cleanPlace(p);
        server.reset();
    });
    afterAll(async () => {
        await server?.close();
    });
    return {
        server: () => server,
        /** A temp place fetching from the fixture's gateway, or another one. */
        place(gateway = server.gateway): Place {
            const p = makePlace(gateway, prefix);
            places.push(p);
            return p;
        },
    };
}
