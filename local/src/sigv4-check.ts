/**
 * Signature Version 4 on the management API, as `execute-api` checks it: the request is
 * signed again with @smithy/signature-v4 (the signer inside the AWS SDK, through the same
 * check the test stand-in uses) and compared. The answers are API Gateway's 403s.
 */
import { sigV4Problem, type ReceivedRequest } from '@wskit/testing/sigv4';

export interface AcceptedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The 403 API Gateway answers, or undefined when the signature holds. */
export interface SignatureRefusal {
  errorType: string;
  message: string;
}

// The texts API Gateway answers with (bodies `{"message": ...}`, type in x-amzn-ErrorType).
const MESSAGES: Record<string, string> = {
  MissingAuthenticationTokenException: 'Missing Authentication Token',
  UnrecognizedClientException: 'The security token included in the request is invalid.',
};
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

export async function checkSignature(request: ReceivedRequest, accepted: readonly AcceptedCredentials[], region: string, service = 'execute-api'): Promise<SignatureRefusal | undefined> {
  const authorization = request.headers.authorization;
  const keyId = typeof authorization === 'string' ? /Credential=([^/,\s]+)\//.exec(authorization)?.[1] : undefined;
  // The key id picks the secret; an unknown one is refused by the check as unrecognized.
  const credentials = accepted.find((c) => c.accessKeyId === keyId) ?? accepted[0]!;
  const problem = await sigV4Problem(request, { ...credentials, region, service });
  if (!problem) return undefined;
  const message = Object.hasOwn(MESSAGES, problem.errorType)
    ? MESSAGES[problem.errorType]!
    : problem.message.startsWith('The request signature we calculated does not match')
      ? MISMATCH
      : problem.message;
  return { errorType: problem.errorType, message };
}
