// bench/compare/fauxqs_local.mjs - starts fauxqs (npm, in-memory SQS/SNS
// emulator) bound to 127.0.0.1 only: its own CLI listens on every
// interface, so this builds the same app from the package's modules and
// listens on loopback.
//
// usage: node fauxqs_local.mjs NODE_MODULES_DIR PORT
import path from "node:path";
import { pathToFileURL } from "node:url";

const [dir, port] = process.argv.slice(2);
const mod = (p) => import(pathToFileURL(path.join(dir, "fauxqs/dist", p)).href);
const { buildApp } = await mod("app.js");
const { SqsStore } = await mod("sqs/sqsStore.js");
const { SnsStore } = await mod("sns/snsStore.js");
const { S3Store } = await mod("s3/s3Store.js");
const app = buildApp({
    logger: false,
    host: `127.0.0.1:${port}`,
    stores: { sqsStore: new SqsStore(), snsStore: new SnsStore(),
              s3Store: new S3Store() },
});
await app.listen({ port: Number(port), host: "127.0.0.1" });
