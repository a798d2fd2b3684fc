// Parses each .tf file given on the command line with HashiCorp's own HCL parser (@cdktf/hcl2json,
// the Go hcl library compiled to WebAssembly). Exits 1 and names the file when any fails to parse.
// Run with NODE_PATH pointing at the node_modules that scripts/setup-tools.sh installs.
const fs = require("fs");
const { parse } = require("@cdktf/hcl2json");

async function main() {
  let failed = 0;
  for (const file of process.argv.slice(2)) {
    try {
      const json = await parse(file, fs.readFileSync(file, "utf8"));
      const blocks = Object.keys(json).length;
      if (blocks === 0) throw new Error("parsed to nothing");
      console.log(`ok ${file} (${Object.keys(json).join(", ")})`);
    } catch (err) {
      failed++;
      console.error(`FAIL ${file}: ${err && err.message ? err.message : err}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
main();
