#!/usr/bin/env node
// grpcjs_client.js - a second, independent client stack for restored: @grpc/grpc-js (a pure
// JavaScript HTTP/2 + gRPC implementation) with @grpc/proto-loader reading
// api/isula/restore/v1/restore.proto and Debian's grpc/health/v1/health.proto at run time.
//
//   node grpcjs_client.js SOCKET MANIFEST SOURCE_DIR
//
// Run by test_grpcjs.sh against a daemon that has not restored yet, over a graph written by
// tests/tools/graphgen.py (MANIFEST: what each container must produce). Calls every RPC,
// the Watch stream (live and replay) and health Check/Watch, and checks the answers.
// Prints one "ok"/"FAIL" line per check and "N passed, N failed"; exit status 0 only if all
// passed. A watchdog bounds the whole run.
'use strict';

const path = require('path');
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [sock, manifestPath, srcDir] = process.argv.slice(2);
if (!sock || !manifestPath || !srcDir) {
  console.error('usage: grpcjs_client.js SOCKET MANIFEST SOURCE_DIR');
  process.exit(2);
}
const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
const TOTAL = manifest.total;
const FAILED = manifest.failed;
const expected = new Map(manifest.containers.map((c) => [`${c.runtime}/${c.dir}`, c.expect]));

const watchdog = setTimeout(() => {
  console.log('FAIL - watchdog: the client did not finish within 90 s');
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, 90000);

let passed = 0;
let failed = 0;
function check(what, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok   - ${what}`);
  } else {
    failed++;
    console.log(`FAIL - ${what}`);
    if (detail !== undefined) console.log(`#   ${JSON.stringify(detail).slice(0, 1500)}`);
  }
}

const loadOpts = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };
const restoreDef = protoLoader.loadSync(path.join(srcDir, 'api/isula/restore/v1/restore.proto'),
  { ...loadOpts, includeDirs: [path.join(srcDir, 'api')] });
const healthDef = protoLoader.loadSync('grpc/health/v1/health.proto',
  { ...loadOpts, includeDirs: ['/usr/share/grpc-proto'] });
const restorePkg = grpc.loadPackageDefinition(restoreDef).isula.restore.v1;
const healthPkg = grpc.loadPackageDefinition(healthDef).grpc.health.v1;

const target = `unix:${sock}`;
const opts = { 'grpc.max_receive_message_length': 256 << 20 };
const restore = new restorePkg.Restore(target, grpc.credentials.createInsecure(), opts);
const health = new healthPkg.Health(target, grpc.credentials.createInsecure(), opts);

function deadline(sec) {
  return new Date(Date.now() + sec * 1000);
}

// Resolves with the response or with {error}: a failed call is data to check, not a throw.
function unary(client, method, req, sec = 60) {
  return new Promise((resolve) => {
    client[method](req, { deadline: deadline(sec) }, (err, resp) => resolve(err ? { error: err } : resp));
  });
}

// A server stream whose messages are kept; waitFor(pred) resolves once one matches.
function stream(client, method, req) {
  const call = client[method](req);
  const s = { call, msgs: [], ended: null, waiters: [] };
  call.on('data', (m) => {
    s.msgs.push(m);
    s.waiters = s.waiters.filter((w) => {
      if (!w.pred(m)) return true;
      clearTimeout(w.timer);
      w.resolve(m);
      return false;
    });
  });
  call.on('error', (e) => { s.ended = e; });
  call.on('end', () => { if (!s.ended) s.ended = { code: grpc.status.OK }; });
  s.waitFor = (pred, sec = 30) => {
    const hit = s.msgs.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => {
      const w = { pred, resolve, timer: setTimeout(() => { s.waiters = s.waiters.filter((x) => x !== w); resolve(null); }, sec * 1000) };
      s.waiters.push(w);
    });
  };
  return s;
}

function key(r) {
  return `${r.runtime}/${r.dir}`;
}

// Each result agrees with the manifest on every field the manifest states.
function mismatches(results) {
  const bad = [];
  for (const r of results) {
    const want = expected.get(key(r));
    if (!want) {
      bad.push({ unexpected: key(r) });
      continue;
    }
    for (const [f, v] of Object.entries(want)) {
      if (f === 'warning') continue;
      if (r[f] !== v) bad.push({ dir: r.dir.slice(0, 12), field: f, want: v, got: r[f] });
    }
  }
  return bad;
}

async function main() {
  // ---- health before any restore ----
  let h = await unary(health, 'check', { service: '' }, 10);
  check('Health.Check "" is NOT_SERVING before the first restore', h.status === 'NOT_SERVING', h);
  h = await unary(health, 'check', { service: 'isula.restore.v1.Restore' }, 10);
  check('Health.Check isula.restore.v1.Restore is NOT_SERVING too', h.status === 'NOT_SERVING', h);
  h = await unary(health, 'check', { service: 'no.such.Service' }, 10);
  check('Health.Check of an unknown service: NOT_FOUND', h.error && h.error.code === grpc.status.NOT_FOUND, h.error && h.error.code);
  const hw = stream(health, 'watch', { service: '' });
  const first = await hw.waitFor(() => true, 10);
  check('Health.Watch sends the current status (NOT_SERVING) at once', first && first.status === 'NOT_SERVING', first);
  const hwu = stream(health, 'watch', { service: 'no.such.Service' });
  const unk = await hwu.waitFor(() => true, 10);
  check('Health.Watch of an unknown service streams SERVICE_UNKNOWN', unk && unk.status === 'SERVICE_UNKNOWN', unk);
  hwu.call.cancel();

  // ---- Watch opened before anything was restored: nothing to replay, so nothing tells us
  // when the server has registered it; give it a moment before the dry run starts. ----
  const w0 = stream(restore, 'watch', { replay: true });
  await new Promise((r) => setTimeout(r, 500));
  check('Watch {replay} before any restore: nothing replayed, stream open', w0.msgs.length === 0 && !w0.ended, w0);

  // ---- RestoreAll dry run ----
  const dry = await unary(restore, 'restoreAll', { dryRun: true });
  check('RestoreAll {dryRun} succeeds', !dry.error, dry.error && dry.error.details);
  if (dry.error) return;
  check('RestoreAll dry run: summary generation 1, PHASE_DONE, dryRun, totals of the manifest',
    dry.summary.generation === '1' && dry.summary.phase === 'PHASE_DONE' && dry.summary.dryRun === true &&
    dry.summary.total === TOTAL && dry.summary.failed === FAILED && dry.summary.restored === TOTAL - FAILED,
    dry.summary);
  check('RestoreAll dry run: one result per container dir, matching the manifest',
    dry.results.length === TOTAL && mismatches(dry.results).length === 0, mismatches(dry.results));
  check('RestoreAll dry run: no state written', dry.results.every((r) => r.stateWritten === false));
  const hNow = await unary(health, 'check', { service: '' }, 10);
  console.log(`# health after a dry run: ${hNow.status || (hNow.error && hNow.error.code)}`);

  const w0fin = await w0.waitFor((e) => e.kind === 'KIND_RESTORE_FINISHED', 10);
  check('Watch opened before any restore: the dry run arrives live (STARTED ... FINISHED, generation 1)',
    w0fin && w0fin.generation === '1' && w0.msgs[0].kind === 'KIND_RESTORE_STARTED' &&
    w0.msgs.filter((e) => e.kind === 'KIND_CONTAINER_RESULT').length === TOTAL, w0.msgs.map((e) => e.kind));
  w0.call.cancel();

  // ---- Watch with replay after the dry run, then a real restore arrives live ----
  const w = stream(restore, 'watch', { replay: true });
  const rep = await w.waitFor(() => true, 10); // replay happens when the stream registers
  check('Watch {replay} starts with the current summary (RESTORE_FINISHED, generation 1)',
    rep && rep.kind === 'KIND_RESTORE_FINISHED' && rep.generation === '1' && rep.summary.phase === 'PHASE_DONE', rep);
  const real = await unary(restore, 'restoreAll', {});
  check('RestoreAll {} succeeds', !real.error, real.error && real.error.details);
  if (real.error) return;
  check('RestoreAll {}: generation 2, not a dry run, totals of the manifest',
    real.summary.generation === '2' && real.summary.dryRun === false && real.summary.total === TOTAL &&
    real.summary.failed === FAILED, real.summary);
  check('RestoreAll {}: results match the manifest', mismatches(real.results).length === 0, mismatches(real.results));
  const keys = real.results.map(key);
  check('RestoreAll {}: results in runtime, then directory order', JSON.stringify(keys) === JSON.stringify([...keys].sort()));

  const fin = await w.waitFor((e) => e.kind === 'KIND_RESTORE_FINISHED' && e.generation === '2', 20);
  check('Watch: RESTORE_FINISHED of generation 2 arrives live', !!fin);
  const replayed = w.msgs.filter((e) => e.generation === '1' && e.kind === 'KIND_CONTAINER_RESULT');
  check('Watch replay: every result of generation 1, once', replayed.length === TOTAL, replayed.length);
  const live = w.msgs.filter((e) => e.generation === '2');
  const kinds = live.map((e) => e.kind);
  check('Watch live: RESTORE_STARTED first and RESTORE_FINISHED last for generation 2',
    kinds[0] === 'KIND_RESTORE_STARTED' && kinds[kinds.length - 1] === 'KIND_RESTORE_FINISHED', kinds);
  const liveResults = live.filter((e) => e.kind === 'KIND_CONTAINER_RESULT').map((e) => key(e.result));
  check('Watch live: one CONTAINER_RESULT per container of generation 2',
    liveResults.length === TOTAL && new Set(liveResults).size === TOTAL, liveResults.length);
  check('Watch live: PROGRESS events carry a stage and counts',
    live.some((e) => e.kind === 'KIND_PROGRESS' && e.progress && e.progress.stage !== 'STAGE_UNSPECIFIED' &&
      e.progress.total > 0), kinds);
  check('Watch live: the final summary equals RestoreAll\'s',
    fin && fin.summary.total === real.summary.total && fin.summary.failed === real.summary.failed &&
    fin.summary.restored === real.summary.restored && fin.summary.phase === 'PHASE_DONE', fin && fin.summary);
  check('Watch events carry a time', live.every((e) => Number(e.timeUs) > 0));
  w.call.cancel();

  // ---- health after the restore ----
  const serving = await hw.waitFor((m) => m.status === 'SERVING', 10);
  check('Health.Watch pushes SERVING once a restore has finished', !!serving, hw.msgs);
  h = await unary(health, 'check', { service: '' }, 10);
  check('Health.Check is SERVING after the restore', h.status === 'SERVING', h);
  hw.call.cancel();

  // ---- ListRestored: pages, filters ----
  const seen = [];
  let token = '';
  let pages = 0;
  for (;;) {
    const page = await unary(restore, 'listRestored', { pageSize: 4, pageToken: token }, 10);
    if (page.error) {
      check('ListRestored page', false, page.error.details);
      break;
    }
    pages++;
    seen.push(...page.containers.map(key));
    token = page.nextPageToken;
    if (!token || pages > TOTAL) break;
  }
  check(`ListRestored {pageSize:4}: ${Math.ceil(TOTAL / 4)} pages covering every result once, in order`,
    JSON.stringify(seen) === JSON.stringify(keys) && pages === Math.ceil(TOTAL / 4), { pages, n: seen.length });
  const lf = await unary(restore, 'listRestored', { outcome: 'OUTCOME_FAILED' }, 10);
  check('ListRestored {outcome:OUTCOME_FAILED}: exactly the failed ones',
    !lf.error && lf.containers.length === FAILED && lf.containers.every((r) => r.outcome === 'OUTCOME_FAILED' && r.reason !== 'REASON_UNSPECIFIED'),
    lf.error || lf.containers.map((r) => r.reason));
  const ls = await unary(restore, 'listRestored', { status: ['STATUS_CREATED'] }, 10);
  const wantCreated = real.results.filter((r) => r.status === 'STATUS_CREATED').length;
  check('ListRestored {status:[STATUS_CREATED]}: exactly the created ones',
    !ls.error && wantCreated > 0 && ls.containers.length === wantCreated &&
    ls.containers.every((r) => r.status === 'STATUS_CREATED'), ls.error || ls.containers.length);
  const web = real.results.find((r) => r.name === 'web');
  const lp = await unary(restore, 'listRestored', { prefix: web.id.slice(0, 8) }, 10);
  check('ListRestored {prefix: 8 hex of an id} finds that container',
    !lp.error && lp.containers.some((r) => r.id === web.id), lp.error);
  const lr = await unary(restore, 'listRestored', { runtime: 'no-such-runtime' }, 10);
  check('ListRestored {runtime:no-such-runtime} is empty', !lr.error && lr.containers.length === 0);

  // ---- HandleContainer ----
  let hc = await unary(restore, 'handleContainer', { id: 'web', dryRun: true }, 30);
  check('HandleContainer {id:"web", dryRun} returns container web',
    !hc.error && hc.result.id === web.id && hc.result.name === 'web', hc.error || hc.result);
  hc = await unary(restore, 'handleContainer', { id: web.id.slice(0, 12), dryRun: true }, 30);
  check('HandleContainer by a 12-hex id prefix', !hc.error && hc.result.id === web.id, hc.error);
  hc = await unary(restore, 'handleContainer', { id: 'no-such-container' }, 10);
  check('HandleContainer of an unknown name: NOT_FOUND',
    hc.error && hc.error.code === grpc.status.NOT_FOUND && /no-such-container/.test(hc.error.details), hc.error);
  hc = await unary(restore, 'handleContainer', { id: '' }, 10);
  check('HandleContainer {id:""}: INVALID_ARGUMENT', hc.error && hc.error.code === grpc.status.INVALID_ARGUMENT, hc.error);
  const bad = await unary(restore, 'restoreAll', { runtimes: ['../etc'] }, 10);
  check('RestoreAll {runtimes:["../etc"]}: INVALID_ARGUMENT',
    bad.error && bad.error.code === grpc.status.INVALID_ARGUMENT, bad.error);

  // ---- a method the server does not have ----
  const raw = new grpc.Client(target, grpc.credentials.createInsecure());
  const unimpl = await new Promise((resolve) => {
    raw.makeUnaryRequest('/isula.restore.v1.Restore/NoSuchMethod', (x) => x, (x) => x, Buffer.alloc(0),
      { deadline: deadline(10) }, (err) => resolve(err));
  });
  check('an unknown method: UNIMPLEMENTED (not a hang)', unimpl && unimpl.code === grpc.status.UNIMPLEMENTED, unimpl && unimpl.code);
  const garbage = await new Promise((resolve) => {
    raw.makeUnaryRequest('/isula.restore.v1.Restore/ListRestored', (x) => x, (x) => x, Buffer.from([0xff, 0xff, 0xff]),
      { deadline: deadline(10) }, (err) => resolve(err));
  });
  check('a request that does not parse: INVALID_ARGUMENT', garbage && garbage.code === grpc.status.INVALID_ARGUMENT, garbage && garbage.code);
  raw.close();
}

main()
  .catch((e) => check(`client crashed: ${e && e.stack}`, false))
  .finally(() => {
    restore.close();
    health.close();
    clearTimeout(watchdog);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 && passed > 0 ? 0 : 1);
  });
