/**
 * A worker thread of the local model's pool (local-use.ts): loads the model once, on its first job,
 * then embeds the batches it is sent. Answers `{ id, result: { dim, data } }` (the vectors, row by
 * row, in one transferred buffer) or `{ id, error: { code, message } }`.
 */
import { loadModel, type UseModel } from "./local-use.js";
import { answerEmbeddingJobs } from "./worker-jobs.js";

let model: Promise<UseModel> | null = null;

answerEmbeddingJobs(async ({ texts }: { texts: string[] }) => {
  model ??= loadModel().catch((e) => {
    model = null; // a failed load is retried by the next job
    throw e;
  });
  return (await model).embed(texts);
});
