// Entry point of the dead-letter queue's consumer on AWS Lambda (SQS trigger with
// ReportBatchItemFailures on the work queue's DLQ): every dead letter fails its bay, if the
// bay is still in progress, with a reason naming the step and the deliveries it had
// (handleDlqBatch). The same dependencies as the worker (lambda.ts), made once per container:
// failing a create also releases the bay's trust and trustee in Keystone.
export { dlqHandler as handler } from "./lambda.ts";
