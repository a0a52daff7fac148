// Runs `program.js` (the solution, then its tests) inside the sandbox and writes a verdict.
//
// Usage, in the run's folder: `node --experimental-permission ... node_harness.js`, with a
// nonce on standard input. The verdict, `.result-NONCE.json`, is opened before any
// untrusted code runs: {"outcome": "passed" | "assertion" | "error", "detail": ...}.
// An AssertionError (node:assert) or a non-zero exit is "assertion"; any other uncaught
// error or rejection is "error". Sockets are refused here too, beside the sandbox.
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
process.on("exit", (code) => {
  finish(code === 0 ? "passed" : "assertion", `the program exited with ${code}`);
});
require(path.join(process.cwd(), "program.js"));
