// @ts-check
// Assembles the Perses plugins the local run loads, from what this project's registries serve
// (Perses' own plugin installer downloads release archives from GitHub instead):
//   - the front end of each plugin (package.json, mf-manifest.json, the module-federation build)
//     from its npm package @perses-dev/<name>;
//   - its CUE schemas, which the Perses server needs to load a plugin and to validate dashboards,
//     from the plugin's Go module github.com/perses/plugins/<dir> (every .cue file, paths kept);
//   - the CUE module those schemas import, github.com/perses/perses/cue, from the Perses Go module
//     of the version each plugin's cue.mod/module.cue names, put in a CUE module cache so that the
//     server evaluates the schemas with no CUE registry (CUE_CACHE_DIR=<cache>, CUE_REGISTRY=none).
//
//   node scripts/tools/perses-plugins.mjs <plugins-dir> <cue-cache-dir> <Name:npm-package@version:go-dir@version>...
//
// Called by scripts/tools/install.sh (PERSES_PLUGINS in versions.env) with Go's module cache
// settings in the environment; writes into the two directories, which must not exist yet.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** @param {string} msg @returns {never} */
function die(msg) {
  process.stderr.write(`perses-plugins: ${msg}\n`);
  process.exit(1);
}

/** A Go module's directory in the module cache, downloaded when missing. @param {string} modAtVersion */
function goModuleDir(modAtVersion) {
  let out;
  try {
    out = execFileSync('go', ['mod', 'download', '-json', modAtVersion], { encoding: 'utf8', env: { ...process.env, GOWORK: 'off' }, cwd: os.tmpdir() });
  } catch (err) {
    const stdout = /** @type {{ stdout?: string }} */ (err).stdout ?? '';
    die(`go mod download ${modAtVersion} failed: ${stdout.match(/"Error": "(.*)"/)?.[1] ?? String(err)}`);
  }
  const dir = /** @type {{ Dir?: string }} */ (JSON.parse(out)).Dir;
  if (!dir || !existsSync(dir)) die(`go mod download ${modAtVersion} gave no directory`);
  return dir;
}

/** Every .cue file below `from`, copied to the same relative path below `to`. @param {string} from @param {string} to */
function copyCueFiles(from, to) {
  let n = 0;
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.cue')) continue;
    const rel = path.relative(from, path.join(entry.parentPath, entry.name));
    if (rel.split(path.sep).includes('node_modules')) continue;
    mkdirSync(path.dirname(path.join(to, rel)), { recursive: true });
    cpSync(path.join(from, rel), path.join(to, rel));
    n++;
  }
  return n;
}

/** The versions of github.com/perses/perses/cue a plugin's CUE module depends on. @param {string} moduleCue */
export function persesCueVersions(moduleCue) {
  const out = [];
  for (const m of moduleCue.matchAll(/"github\.com\/perses\/perses\/cue@v0":\s*\{[^}]*?\bv:\s*"([^"]+)"/g)) out.push(m[1]);
  return out;
}

/** @param {string} spec Name:npm-package@version:go-dir@version */
export function parsePluginSpec(spec) {
  const m = /^([A-Za-z][\w-]*):(@perses-dev\/[a-z0-9-]+)@([\w.-]+):([a-z0-9-]+)@(v[\w.-]+)$/.exec(spec);
  if (!m) throw new Error(`bad plugin spec "${spec}" (want Name:@perses-dev/<package>@<version>:<go-dir>@v<version>)`);
  return { name: m[1], npmPackage: m[2], npmVersion: m[3], goModule: `github.com/perses/plugins/${m[4]}`, goVersion: m[5] };
}

/** Puts github.com/perses/perses/cue at `version` into the CUE module cache, as CUE's own fetch would. @param {string} cache @param {string} version */
function cacheCueModule(cache, version) {
  const extract = path.join(cache, 'mod/extract/github.com/perses/perses', `cue@${version}`);
  if (existsSync(extract)) return;
  const src = path.join(goModuleDir(`github.com/perses/perses@${version}`), 'cue');
  if (!existsSync(path.join(src, 'cue.mod/module.cue'))) die(`github.com/perses/perses@${version} has no cue/cue.mod/module.cue`);
  cpSync(src, extract, { recursive: true });
  const download = path.join(cache, 'mod/download/github.com/perses/perses/cue/@v');
  mkdirSync(download, { recursive: true });
  cpSync(path.join(src, 'cue.mod/module.cue'), path.join(download, `${version}.mod`));
}

function main() {
  const [pluginsDir, cueCache, ...specs] = process.argv.slice(2);
  if (!pluginsDir || !cueCache || specs.length === 0) die('usage: perses-plugins.mjs <plugins-dir> <cue-cache-dir> <Name:@perses-dev/pkg@version:go-dir@version>...');
  for (const d of [pluginsDir, cueCache]) if (existsSync(d)) die(`${d} exists already`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'perses-plugins-'));
  try {
    for (const spec of specs) {
      const p = parsePluginSpec(spec);
      const dest = path.join(pluginsDir, p.name);
      // The front end, as npm serves it.
      const tgz = execFileSync('npm', ['pack', '--silent', `${p.npmPackage}@${p.npmVersion}`], { cwd: work, encoding: 'utf8' }).trim().split('\n').pop() ?? '';
      const unpacked = path.join(work, p.name);
      mkdirSync(unpacked);
      execFileSync('tar', ['xzf', path.join(work, tgz), '-C', unpacked]);
      cpSync(path.join(unpacked, 'package'), dest, { recursive: true });
      if (!existsSync(path.join(dest, 'mf-manifest.json'))) die(`${p.npmPackage}@${p.npmVersion} has no mf-manifest.json`);
      // The schemas, from the Go module of the same plugin.
      const cueFiles = copyCueFiles(goModuleDir(`${p.goModule}@${p.goVersion}`), dest);
      if (!existsSync(path.join(dest, 'schemas')) || !existsSync(path.join(dest, 'cue.mod/module.cue'))) {
        die(`${p.goModule}@${p.goVersion} has no schemas/ or cue.mod/module.cue`);
      }
      // The server reads the schemas below perses.schemasPath; some packages leave it unset.
      const pkgFile = path.join(dest, 'package.json');
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
      if (!pkg.perses) die(`${p.npmPackage}@${p.npmVersion}: package.json has no "perses" section`);
      pkg.perses.schemasPath ??= 'schemas';
      writeFileSync(pkgFile, JSON.stringify(pkg, null, 2) + '\n');
      const versions = persesCueVersions(readFileSync(path.join(dest, 'cue.mod/module.cue'), 'utf8'));
      for (const v of versions) cacheCueModule(cueCache, v);
      const kinds = (pkg.perses.plugins ?? []).map((/** @type {{ spec?: { name?: string } }} */ x) => x.spec?.name).filter(Boolean);
      process.stdout.write(`  ${p.name}: ${p.npmPackage}@${p.npmVersion} + ${cueFiles} CUE files of ${p.goModule}@${p.goVersion} (perses/cue ${versions.join(', ')}): ${kinds.join(', ')}\n`);
    }
    mkdirSync(cueCache, { recursive: true });
  } catch (err) {
    rmSync(pluginsDir, { recursive: true, force: true });
    rmSync(cueCache, { recursive: true, force: true });
    throw err;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!statSync(pluginsDir).isDirectory()) die('no plugin assembled');
}

if (import.meta.url === `file://${process.argv[1]}`) main();
