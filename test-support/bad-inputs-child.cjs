'use strict';
// Runs one row of the bad-input table (test-support/bad-inputs.cjs) in its own process, for
// rows that once aborted the process: `<runtime> bad-inputs-child.cjs <row id>`. Prints
// one line `@@RESULT {"problems": [...], "got": "..."}`; the parent checks the exit status.
const { buildRows, runRow } = require('./bad-inputs.cjs');

const id = process.argv[2];
const row = buildRows().find((r) => r.id === id);
if (!row) {
  process.stdout.write(`@@RESULT ${JSON.stringify({ problems: [`no row ${id}`], got: 'n/a' })}\n`);
} else {
  runRow(row).then((res) => {
    require(require('./env.cjs').root).shutdown();
    process.stdout.write(`@@RESULT ${JSON.stringify(res)}\n`);
  });
}
