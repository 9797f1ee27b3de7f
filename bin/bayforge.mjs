#!/usr/bin/env node
// `bayforge` from a clone (`npx bayforge ...`): runs the TypeScript entry through tsx, as
// `node --import tsx cli/bayforge.ts` would, without a second process.
import { register } from "tsx/esm/api";

register();
await import("../cli/bayforge.ts");
