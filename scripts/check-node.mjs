// Plain JavaScript on purpose: it must run, and explain itself, on any Node version.
const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(
    `DVSS needs Node.js 22 or newer (24 LTS recommended); this is Node ${process.versions.node}.\n` +
      "Install a current Node.js, e.g. `npm install --prefix ~/.node24 node@24` and put ~/.node24/node_modules/.bin first on PATH.",
  );
  process.exit(1);
}
