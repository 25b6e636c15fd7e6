// Sums the JSON reports of the jest projects (`jest --json --outputFile=…`) and prints the closing line of
// `make test`: `N passed, N failed`. Exits 1 when a test or suite failed, a report is missing, or a step
// given as `--step name=<exit status>` (lint, a jest run) was non-zero.
//   node scripts/jest-summary.mjs [--step lint=0] .state/test/unit.json .state/test/integration.json
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

const args = process.argv.slice(2);
const steps = [];
const reports = [];
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--step') {
    const [name = '?', status = '1'] = (args[i + 1] ?? '').split('=');
    steps.push({ name, status: Number(status) });
    i += 1;
  } else {
    reports.push(args[i]);
  }
}

let passed = 0;
let failed = 0;
let ok = true;
const explained = new Set(); // reports whose failures are already listed
for (const file of reports) {
  const name = basename(file, '.json');
  if (!existsSync(file)) {
    console.log(`${name}: no report (jest did not run to the end)`);
    failed += 1;
    ok = false;
    explained.add(name);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  // A suite that fails before its tests run (a syntax or import error) has no failed test: count it.
  const brokenSuites = report.testResults.filter(
    (suite) => suite.status === 'failed' && suite.assertionResults.every((t) => t.status !== 'failed'),
  );
  for (const suite of brokenSuites) console.log(`${name}: suite failed to run: ${suite.name}`);
  passed += report.numPassedTests;
  failed += report.numFailedTests + brokenSuites.length;
  if (!report.success) ok = false;
  if (report.numFailedTests + brokenSuites.length > 0) explained.add(name);
  console.log(
    `${name}: ${report.numPassedTests} passed, ${report.numFailedTests + brokenSuites.length} failed` +
      (report.numPendingTests > 0 ? `, ${report.numPendingTests} skipped` : '') +
      ` (${report.numTotalTestSuites} suites)`,
  );
}
for (const step of steps) {
  if (step.status !== 0 && !explained.has(step.name)) {
    console.log(`${step.name}: failed (exit status ${step.status})`);
    ok = false;
  }
}
if (failed > 0) ok = false;
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
