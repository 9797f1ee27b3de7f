// `openstack coe` with Debian's python3-magnumclient 4.0, against Bayforge (test/support/osc-suite.ts).
import { oscSuite } from "../support/osc-suite.ts";

oscSuite("debian");
