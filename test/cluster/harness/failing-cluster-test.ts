/**
 * A test that fails on purpose with a 3-member etcd cluster running in network namespaces, its
 * teardown in `after` as every fault test has it. etcd-cluster.test.ts runs it in a child process and
 * then checks that nothing of the cluster outlived it.
 */
import { after, it } from "node:test";
import { EtcdCluster } from "./etcd-cluster.js";
import { stopAllProcesses } from "./node-process.js";

let cluster: EtcdCluster | undefined;
after(async () => {
  await cluster?.stop();
  await stopAllProcesses();
});

it("fails with the cluster up", async () => {
  cluster = await EtcdCluster.start({ network: "namespaces" });
  const pids = cluster.members.map((m) => m.process.pid).join(",");
  const namespace = cluster.namespaceOf(cluster.members[0]);
  console.log(`started ${cluster.dataFolder} ${namespace?.replace(/\d+$/, "")} pids ${pids}`);
  throw new Error("this test fails on purpose");
});
