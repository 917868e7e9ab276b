// Runs the RFC 9111 caching suite (http-cache-tests, pinned in package.json) against a cache
// whose origin is the suite's own server, and writes one JSON report:
//   { "results": { test id: true | [error kind, message] }, "kinds": { test id: kind } }
// where kind is "required", "optimal" or "check", as the suite grades its tests.
// A test that never settles (the suite's client waits forever on a broken response) is
// reported as ["Unsettled", ...] instead of stopping the run silently.
//
//   node run.mjs BASE_URL OUT.json
import fs from 'fs'
import fetch from 'node-fetch'
import { runTests, getResults } from 'http-cache-tests/client/runner.mjs'
import suites from 'http-cache-tests/tests/index.mjs'

const [base, out] = process.argv.slice(2)
if (!base || !out) {
  console.error('usage: node run.mjs BASE_URL OUT.json')
  process.exit(2)
}

const kinds = {}
for (const suite of suites) {
  for (const test of suite.tests) {
    if (test.browser_only) continue
    kinds[test.id] = test.kind || 'required'
  }
}

let written = false
function report () {
  if (written) return
  written = true
  const results = getResults()
  for (const id of Object.keys(kinds)) {
    if (!(id in results)) results[id] = ['Unsettled', 'the test never finished']
  }
  fs.writeFileSync(out, JSON.stringify({ results, kinds }, null, 1))
}

// Node exits once nothing is pending, even if a test's promise never settled.
process.on('beforeExit', report)
runTests(suites, fetch, false, base).then(report)
