// The node simulator reads a server's user_data as cloud-init does (scripts/devcloud/
// node-simulator/user-data.ts): the parts of a MultipartMime in order, shell scripts only,
// bounded sizes; and it forwards only the host services the parameters name.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { heatParams, loopbackPorts, MAX_PARTS, readUserData } from "../../scripts/devcloud/node-simulator/user-data.ts";
import { hostnameOf } from "../../scripts/devcloud/node-simulator/simulator.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
function mime(parts: Array<{ type: string; body: string; base64?: boolean }>): string {
  const b = "==b==";
  const out = [`Content-Type: multipart/mixed; boundary="${b}"`, "MIME-Version: 1.0", ""];
  for (const p of parts) {
    out.push(`--${b}`, `Content-Type: ${p.type}; charset="utf-8"`, "MIME-Version: 1.0", `Content-Transfer-Encoding: ${p.base64 ? "base64" : "7bit"}`, "", p.base64 ? b64(p.body) : p.body);
  }
  out.push(`--${b}--`, "");
  return out.join("\n");
}

describe("the node simulator's user_data reader", () => {
  it("runs the shell-script parts in order (base64 or 7bit), guesses text/plain by its #!, and skips the rest", () => {
    const ud = mime([
      { type: "text/x-shellscript", body: "#!/bin/bash\nA=1\n" },
      { type: "text/cloud-config", body: "#cloud-config\n" },
      { type: "text/plain", body: "#!/bin/sh\necho two\n", base64: true },
      { type: "text/plain", body: "just text" },
    ]);
    const { scripts, skipped } = readUserData(b64(ud));
    assert.deepEqual(scripts, [{ name: "part-001", body: "#!/bin/bash\nA=1\n" }, { name: "part-003", body: "#!/bin/sh\necho two\n" }]);
    assert.equal(skipped.length, 2);
    assert.match(skipped[0], /^part-002 \(text\/cloud-config\)$/);
  });

  it("takes a bare script as one part, and empty user_data as nothing", () => {
    assert.deepEqual(readUserData(b64("#!/bin/bash\ntrue\n")).scripts, [{ name: "part-001", body: "#!/bin/bash\ntrue\n" }]);
    assert.deepEqual(readUserData(""), { scripts: [], skipped: [] });
  });

  it("refuses user_data larger than Nova could hold, and too many parts", () => {
    assert.throws(() => readUserData(b64("x".repeat(300 << 10))), /larger than/);
    const many = mime(Array.from({ length: MAX_PARTS + 1 }, () => ({ type: "text/x-shellscript", body: "#!/bin/sh\n" })));
    assert.throws(() => readUserData(b64(many)), /parts \(at most/);
  });

  it("forwards only the host services the parameters and the signal name, never a node's own loopback ports", () => {
    const params = '#!/bin/bash\ncat <<EOF\nMAGNUM_URL="http://127.0.0.1:9511/v1"\nAUTH_URL="http://localhost:5000/v3"\nETCD_DISCOVERY_URL="http://127.0.0.1:9511/v1/discovery/x"\nKUBE_APT_MIRROR="https://pkgs.k8s.io"\nEOF\n';
    const etcd = "#!/bin/bash\necho 'listen-client-urls: https://10.0.0.5:2379,https://127.0.0.1:2379'\n";
    const signal = "#!/bin/bash\ncurl -i -X POST -H 'X-Auth-Token: t' http://127.0.0.1:8004/v1/p/stacks/s/i/resources/h/signal\n";
    const scripts = [params, etcd, signal].map((body, i) => ({ name: `part-00${i + 1}`, body }));
    assert.deepEqual(loopbackPorts(scripts), [9511, 5000, 8004]);
    assert.equal(heatParams(scripts).MAGNUM_URL, "http://127.0.0.1:9511/v1");
  });

  it("names the node as Nova's metadata would", () => {
    assert.equal(hostnameOf("Bay-1_kube_master-0", "abc"), "bay-1-kube-master-0");
    assert.equal(hostnameOf("a b.c/d", "abc"), "a-b-cd");
    assert.equal(hostnameOf("!!!", "12345678-aaaa"), "server-12345678");
    assert.equal(hostnameOf("x".repeat(80), "i").length, 63);
  });
});
