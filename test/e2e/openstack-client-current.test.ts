// `openstack coe` with python-magnumclient's current source (test/vendor/python-magnumclient),
// against Bayforge: the suite in test/support/osc-suite.ts, with what only it speaks.
import { oscSuite } from "../support/osc-suite.ts";

oscSuite("current");
