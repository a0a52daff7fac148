// Runs `program.js` (the solution, then its tests) inside the sandbox and writes a verdict.
//
// Usage, in the run's folder: `node --experimental-permission ... node_harness.js SOLUTION_LINES`, with a
// nonce on standard input. The verdict, `.result-NONCE.json`, is opened before any
// untrusted code runs: {"outcome": "passed" | "assertion" | "error", "detail": ...}.
// An AssertionError (node:assert) or a non-zero exit is "assertion"; any other uncaught
// error or rejection is "error", and so is an exit with 0 called from the solution's lines.
// Sockets are refused here too, beside the sandbox.
"use strict";
const fs = require("fs");
const path = require("path");

const nonce = fs.readFileSync(0, "utf8").trim();
const resultFd = fs.openSync(path.join(process.cwd(), `.result-${nonce}.json`), "w");
let finished = false;

function finish(outcome, detail) {
  if (finished) return;
  finished = true;
  fs.writeSync(resultFd, JSON.stringify({ outcome, detail: String(detail).slice(-2000) }));
  fs.closeSync(resultFd);
}

function isAssertion(error) {
  return Boolean(error) && (error.code === "ERR_ASSERTION" || error.name === "AssertionError");
}

function describe(error) {
  // The message first, then the top of the stack (its tail is node's own loader frames).
  const stack = String((error && error.stack) || error).split("\n");
  return stack.slice(0, 6).join("\n");
}

function failed(error) {
  finish(isAssertion(error) ? "assertion" : "error", describe(error));
  process.exit(1);
}

function refuse() {
  throw new Error("the sandbox forbids network access");
}

const net = require("net");
net.Socket.prototype.connect = refuse;
net.Server.prototype.listen = refuse;
require("dgram").createSocket = refuse;

process.on("uncaughtException", failed);
process.on("unhandledRejection", failed);
// `program.js` is the solution's lines, then the tests': an exit with 0 that the solution
// calls stops the tests before their end (an error); the tests may exit with 0 themselves.
const solutionLines = Number(process.argv[2] || 0);
let exitedBySolution = false;
const realExit = process.exit;
process.exit = function exit(code) {
  const frame = /program\.js:(\d+):\d+/.exec(String(new Error().stack));
  exitedBySolution = Boolean(frame) && Number(frame[1]) <= solutionLines;
  return realExit.call(process, code);
};
process.on("exit", (code) => {
  if (code !== 0) finish("assertion", `the program exited with ${code}`);
  else if (exitedBySolution) finish("error", "the solution exited with 0 before the tests finished");
  else finish("passed", "the program exited with 0");
});
require(path.join(process.cwd(), "program.js"));
