// Validates SNS HTTP messages (JSON documents, one per argument file line)
// with the npm sns-validator package, trusting certificate URLs on the host
// given by SNS_CERT_HOST (a regular expression); the certificate authority is
// passed through NODE_EXTRA_CA_CERTS.  Prints one line per message and exits
// non-zero if any fails.
import { readFileSync } from "node:fs";
import MessageValidator from "sns-validator";

const lines = readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean);
const validator = new MessageValidator(new RegExp(process.env.SNS_CERT_HOST));
let failed = 0;
for (const line of lines) {
    const msg = JSON.parse(line);
    try {
        await new Promise((res, rej) => validator.validate(msg, (err) => (err ? rej(err) : res())));
        console.log(`valid ${msg.Type} ${msg.MessageId}`);
    } catch (e) {
        failed++;
        console.log(`INVALID ${msg.Type} ${msg.MessageId}: ${e.message}`);
    }
}
process.exit(failed ? 1 : 0);
