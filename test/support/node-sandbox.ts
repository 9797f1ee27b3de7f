// The node sandbox lives with the dev cloud's node simulator, which boots the full profile's
// servers in it; the tests use the same one.
export { bootNode, type Forward, type NodeBoot, type NodeSandboxOptions, type StandinCall } from "../../scripts/devcloud/node-simulator/sandbox.ts";
