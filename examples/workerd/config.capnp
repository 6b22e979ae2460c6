# workerd configuration of the Quiver example (examples/workerd/README.md). `node build.mjs` first
# writes build/; then `workerd serve config.capnp` serves on 127.0.0.1:8787, and
# `workerd test config.capnp` runs test-worker.js against it.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "quiver", worker = .quiverWorker),
    (name = "quiver-test", worker = .testWorker),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "quiver")],
);

const quiverWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "build/worker.js"),
    # Declared as wasm modules, workerd hands them to the worker compiled (it refuses to compile bytes).
    (name = "kernels.wasm", wasm = embed "build/kernels.wasm"),
    (name = "hnsw.wasm", wasm = embed "build/hnsw.wasm"),
  ],
  bindings = [(name = "QUIVER_ADMIN_KEY", text = "workerd-example-admin-key-0123")],
  compatibilityDate = "2026-11-01",
);

const testWorker :Workerd.Worker = (
  modules = [(name = "test-worker.js", esModule = embed "build/test-worker.js")],
  bindings = [(name = "QUIVER", service = "quiver")],
  compatibilityDate = "2026-11-01",
);
