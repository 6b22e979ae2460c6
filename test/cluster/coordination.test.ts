/**
 * Runs the coordination conformance suite (CommitLog, Lease, Catalog) against the process-local
 * coordinator and against etcd (one member from /usr/bin/etcd on loopback, started and stopped here).
 */
import { randomUUID } from "node:crypto";
import { after, before } from "node:test";
import { EtcdCoordinator } from "../../src/cluster/etcd/etcd-coordinator.js";
import { LocalCoordinator } from "../../src/cluster/local-coordinator.js";
import { EtcdMember } from "../support/cluster-services.js";
import { coordinationConformance } from "./coordination-conformance.js";

let etcd: EtcdMember;
const clients: EtcdCoordinator[] = [];
before(async () => {
  etcd = await EtcdMember.start();
});
after(async () => {
  for (const client of clients) client.close();
  await etcd.stop();
});

coordinationConformance("process-local", async () => {
  let now = 1_000_000;
  const coordinator = new LocalCoordinator(() => now);
  return {
    coordinator,
    ttlMs: 10_000,
    passTime: async (ms) => {
      now += ms;
    },
    expire: async () => {
      now += 10_001;
    },
  };
});

coordinationConformance("etcd", async () => {
  const coordinator = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix: `test-${randomUUID()}` });
  clients.push(coordinator);
  return {
    coordinator,
    ttlMs: 2000,
    passTime: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    expire: (name) => untilFree(coordinator, name),
  };
});

/** Waits for etcd to expire the lease on `name` (its leader checks expiry about every 500 ms). */
async function untilFree(coordinator: EtcdCoordinator, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await coordinator.owner(name)) !== null) {
    if (Date.now() > deadline) throw new Error(`the lease on ${name} did not expire in 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
