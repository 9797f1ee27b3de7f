// The console's one client script and its stylesheet, served from /console/static/ (CSP
// script-src 'self': nothing inline). The script polls small JSON endpoints to keep lists
// live (SSE does not fit Lambda), and makes the kubeconfig: a P-256 key pair and a PKCS#10
// CSR built with WebCrypto and a small DER encoder, signed by the API; the private key
// never leaves the browser. It writes only through textContent and DOM nodes, never HTML.
export const CLIENT_JS = String.raw`"use strict";
(function () {
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = String(text); if (cls) e.className = cls; return e; }
  function badge(s) { s = s || "UNKNOWN"; return el("span", s, "status " + (/_IN_PROGRESS$/.test(s) ? "progress" : /_FAILED$/.test(s) ? "failed" : "complete")); }
  function poll(node, every, render) {
    var src = node.getAttribute("data-src");
    function tick() {
      fetch(src, { credentials: "same-origin", headers: { accept: "application/json" } })
        .then(function (r) { if (r.status === 401 || r.redirected) { location.href = "/console/sign-in"; return null; } return r.ok ? r.json() : null; })
        .then(function (j) { if (j) render(j); })
        .catch(function () {})
        .then(function () { setTimeout(tick, every); });
    }
    setTimeout(tick, every);
  }

  var list = document.getElementById("bay-list");
  if (list) poll(list, 3000, function (j) {
    var body = list.querySelector("tbody");
    var rows = document.createDocumentFragment();
    j.bays.forEach(function (b) {
      var tr = el("tr"); tr.setAttribute("data-uuid", b.uuid);
      var name = el("td"); var a = el("a", b.name); a.href = "/console/bays/" + encodeURIComponent(b.uuid); name.appendChild(a); tr.appendChild(name);
      var st = el("td"); st.appendChild(badge(b.status)); tr.appendChild(st);
      [b.health, b.master_count, b.node_count, b.age].forEach(function (v) { tr.appendChild(el("td", v)); });
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
    var empty = document.getElementById("bay-list-empty"); if (empty) empty.hidden = j.bays.length > 0;
    var stamp = document.getElementById("bay-list-updated"); if (stamp) stamp.textContent = "Updated " + new Date().toLocaleTimeString();
  });

  var state = document.getElementById("bay-state");
  var shown = state && (state.querySelector('[data-field="status"]') || {}).textContent;
  if (state) poll(state, 3000, function (j) {
    var note = document.getElementById("timeline-note");
    if (note && j.status !== shown) note.textContent = "The bay is now " + j.status + ": reload the page to see it on the timeline.";
    Object.keys(j).forEach(function (k) {
      var f = state.querySelector('[data-field="' + k + '"]');
      if (!f) return;
      if (k === "status") f.replaceChildren(badge(j[k])); else f.textContent = j[k] == null ? "" : String(j[k]);
    });
  });

  var batch = document.getElementById("batch-items");
  if (batch) poll(batch, 3000, function (j) {
    var rows = document.createDocumentFragment();
    j.items.forEach(function (it) {
      var tr = el("tr");
      var name = el("td");
      if (it.bay_uuid) { var a = el("a", it.name); a.href = "/console/bays/" + encodeURIComponent(it.bay_uuid); name.appendChild(a); } else name.textContent = it.name;
      tr.appendChild(name); tr.appendChild(el("td", it.action));
      var st = el("td"); if (it.status) st.appendChild(badge(it.status)); tr.appendChild(st);
      tr.appendChild(el("td", it.reason || it.status_reason || ""));
      rows.appendChild(tr);
    });
    batch.querySelector("tbody").replaceChildren(rows);
    var sum = document.getElementById("batch-summary"); if (sum) sum.textContent = j.summary;
  });

  // ---- kubeconfig: DER encoder, CSR, download
  function lenBytes(n) { if (n < 128) return [n]; var b = []; while (n > 0) { b.unshift(n & 255); n = Math.floor(n / 256); } return [128 | b.length].concat(b); }
  function tlv(tag, bytes) { return [tag].concat(lenBytes(bytes.length), bytes); }
  function seq() { return tlv(0x30, [].concat.apply([], arguments)); }
  function set() { return tlv(0x31, [].concat.apply([], arguments)); }
  function oid(s) {
    var p = s.split(".").map(Number), out = [40 * p[0] + p[1]];
    p.slice(2).forEach(function (v) { var b = [v & 127]; v = Math.floor(v / 128); while (v > 0) { b.unshift(128 | (v & 127)); v = Math.floor(v / 128); } out = out.concat(b); });
    return tlv(6, out);
  }
  function utf8(s) { return tlv(0x0c, Array.from(new TextEncoder().encode(s))); }
  function uint(bytes) { var i = 0; while (i < bytes.length - 1 && bytes[i] === 0) i++; bytes = bytes.slice(i); if (bytes[0] & 128) bytes = [0].concat(bytes); return tlv(2, bytes); }
  function b64(bytes) { var s = ""; for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]); return btoa(s); }
  function pem(label, bytes) { return "-----BEGIN " + label + "-----\n" + b64(bytes).replace(/.{1,64}/g, "$&\n") + "-----END " + label + "-----\n"; }

  /** A PKCS#10 request for CN=admin, O=system:masters (as openstack coe cluster config asks), signed ecdsa-with-SHA256. */
  async function makeCsr(keys) {
    var spki = Array.from(new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey)));
    var name = seq(set(seq(oid("2.5.4.10"), utf8("system:masters"))), set(seq(oid("2.5.4.3"), utf8("admin"))));
    var info = seq(tlv(2, [0]), name, spki, [0xa0, 0]);
    var raw = Array.from(new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, new Uint8Array(info))));
    var sig = seq(uint(raw.slice(0, raw.length / 2)), uint(raw.slice(raw.length / 2)));
    return pem("CERTIFICATE REQUEST", seq(info, seq(oid("1.2.840.10045.4.3.2")), tlv(3, [0].concat(sig))));
  }

  var kc = document.getElementById("kubeconfig");
  if (kc) kc.addEventListener("click", async function () {
    var out = document.getElementById("kubeconfig-status");
    out.textContent = "Making a key pair in this browser…";
    kc.disabled = true;
    try {
      var keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
      var csr = await makeCsr(keys);
      out.textContent = "Asking Bayforge to sign the certificate…";
      var r = await fetch(kc.getAttribute("data-src"), { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json", "x-csrf-token": csrf }, body: JSON.stringify({ csr: csr }) });
      var j = await r.json();
      if (!r.ok) throw new Error(j.error || ("HTTP " + r.status));
      var key = pem("PRIVATE KEY", Array.from(new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey))));
      var enc = function (s) { return b64(Array.from(new TextEncoder().encode(s))); };
      var server = /^https?:\/\//.test(j.server || "") ? j.server : "https://" + (j.server || "");
      var yaml = ["apiVersion: v1", "kind: Config", "clusters:", "- name: " + JSON.stringify(j.name), "  cluster:",
        "    server: " + JSON.stringify(server), "    certificate-authority-data: " + enc(j.ca_pem),
        "users:", "- name: admin", "  user:", "    client-certificate-data: " + enc(j.cert_pem), "    client-key-data: " + enc(key),
        "contexts:", "- name: default", "  context:", "    cluster: " + JSON.stringify(j.name), "    user: admin",
        "current-context: default", "preferences: {}", ""].join("\n");
      var a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([yaml], { type: "application/yaml" }));
      a.download = "kubeconfig-" + j.name + ".yaml";
      document.body.appendChild(a); a.click(); a.remove();
      out.textContent = "Downloaded " + a.download + ". Its private key was made here and was never sent.";
    } catch (e) {
      out.textContent = "Could not make a kubeconfig: " + e.message;
    } finally { kc.disabled = false; }
  });
})();
`;

export const CLIENT_CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;background:#f6f7f9}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;background:#16324f;color:#fff}
header a{color:#fff;margin-right:.75rem}
header .brand{font-weight:700;margin-right:1rem}
header .who{margin-left:auto;display:flex;gap:.5rem;align-items:center}
main{padding:1rem;max-width:1100px;margin:0 auto}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
a{color:#0b57d0}
a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #f9a825;outline-offset:1px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;color:#000;padding:.3rem;z-index:2}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e3e5e8;vertical-align:top;overflow-wrap:anywhere}
.scroll{overflow-x:auto}
.status{display:inline-block;padding:.05rem .4rem;border-radius:.3rem;font-size:.8rem;font-weight:600;white-space:nowrap}
.status.progress{background:#e3f2fd;color:#0d47a1}.status.failed{background:#ffebee;color:#b71c1c}.status.complete{background:#e8f5e9;color:#1b5e20}
form.stack label{display:block;margin:.7rem 0 .2rem;font-weight:600}
input,select,textarea,button{font:inherit;padding:.35rem .5rem;max-width:100%}
input[type=text],input[type=password],input[type=number],select,textarea{width:22rem}
textarea{width:100%;min-height:12rem;font-family:ui-monospace,monospace}
button{background:#0b57d0;color:#fff;border:0;border-radius:.3rem;padding:.45rem .9rem;cursor:pointer}
button.danger{background:#b71c1c}
.field-error{color:#b71c1c;margin:.2rem 0}
.notice{padding:.6rem .8rem;border-radius:.3rem;white-space:pre-wrap}.notice.error{background:#ffebee}.notice.info{background:#e3f2fd}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;background:#fff;padding:.8rem}
dl.fields dt{font-weight:600}dl.fields dd{margin:0;overflow-wrap:anywhere}
.actions{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.actions form{background:#fff;padding:.6rem;border:1px solid #e3e5e8;border-radius:.3rem}
figure.timeline{margin:0 0 1rem;background:#fff;padding:.5rem}
figcaption{font-size:.85rem;color:#555}
.muted{color:#666;font-size:.85rem}
@media (max-width:600px){
 input[type=text],input[type=password],input[type=number],select{width:100%}
 dl.fields{grid-template-columns:1fr}
 header .who{margin-left:0}
 th,td{padding:.3rem}
}
`;
