// Validates jambonz verb arrays with the vendor's own package (@jambonz/verb-specifications).
// Reads JSON lines on stdin, each an array of verbs; writes one JSON line per array:
// {"ok": true} or {"ok": false, "error": "..."}.
const readline = require('readline');
const {validate} = require('@jambonz/verb-specifications');

const logger = {info: () => {}, debug: () => {}, error: () => {}};
const lines = readline.createInterface({input: process.stdin});
lines.on('line', (line) => {
  if (!line.trim()) return;
  try {
    validate(logger, JSON.parse(line));
    process.stdout.write(JSON.stringify({ok: true}) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ok: false, error: err.message}) + '\n');
  }
});
