// The pack's entry (package.json "main"). Pulumi's run-policy-pack registers ts-node in
// type-checking mode, which spent ~6 s compiling the rules at the start of every preview and
// update; tsx's loader (esbuild, transpile only) takes .ts files over first: ~2.5 s. The rules
// are type-checked with the rest of the project by `npm test` (tsc).
require("tsx/cjs");
require("./index.ts");
