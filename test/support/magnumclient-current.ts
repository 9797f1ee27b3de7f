// python-magnumclient's current source (test/vendor/python-magnumclient) as Debian's
// `openstack` loads it: a copy of the package with a dist-info holding its pyproject.toml's
// entry points, put first on PYTHONPATH. Python's importlib.metadata takes the first
// distribution of a name on the path, so the 4.0 that Debian installed is not used.
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { ROOT } from "./bayforge-process.ts";

const SOURCE = join(ROOT, "test", "vendor", "python-magnumclient");
/** `git describe` of the vendored commit (VENDORED.md), as a version pip would give it. */
const VERSION = "4.11.1.dev34";
let made: string | undefined;

/** The directory to put first on PYTHONPATH (made once per process). */
export function currentMagnumclientPath(): string {
  if (made && existsSync(made)) return made;
  const dir = mkdtempSync(join(tmpdir(), "bf-magnumclient-"));
  cpSync(join(SOURCE, "magnumclient"), join(dir, "magnumclient"), { recursive: true });
  const info = join(dir, `python_magnumclient-${VERSION}.dist-info`);
  mkdirSync(info);
  writeFileSync(join(info, "METADATA"), `Metadata-Version: 2.1\nName: python-magnumclient\nVersion: ${VERSION}\n`);
  // the entry points, read by Debian's Python 3.11 (tomllib) from the vendored pyproject.toml
  const entryPoints = execFileSync(
    "/usr/bin/python3",
    ["-c", "import sys, tomllib\np = tomllib.load(open(sys.argv[1], 'rb'))\nfor g, eps in p['project']['entry-points'].items():\n    print(f'[{g}]')\n    [print(f'{k} = {v}') for k, v in eps.items()]\n    print()", join(SOURCE, "pyproject.toml")],
    { encoding: "utf8" },
  );
  writeFileSync(join(info, "entry_points.txt"), entryPoints);
  made = dir;
  return dir;
}
