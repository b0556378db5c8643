/**
 * Links carry names, not permissions. SST's built-in links grant `dynamodb:*`, `s3:*` and
 * `states:*` on the linked resource; we keep linking (it is how handlers read
 * `Resource.<Name>.name` in AWS and under `sst dev`) but replace what a link includes with nothing,
 * and grant each function its few actions from access.ts instead.
 */
export function linkNamesOnly() {
  sst.Linkable.wrap(sst.aws.Dynamo, (table) => ({ properties: { name: table.name } }));
  sst.Linkable.wrap(sst.aws.Bucket, (bucket) => ({ properties: { name: bucket.name } }));
  // The state machine is a plain Pulumi resource (see workflow.ts); this makes it linkable at all.
  sst.Linkable.wrap(aws.sfn.StateMachine, (machine) => ({
    properties: { name: machine.name, arn: machine.arn },
  }));
}
