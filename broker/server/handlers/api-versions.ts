import { ErrorCode } from '../../../protocol/error-codes.js';
import { API_REGISTRY } from '../../../protocol/messages/index.js';
import type { ApiHandler } from '../request-router.js';

/** ApiVersions: advertises exactly the handlers the router has (read lazily, after registration). */
export function apiVersionsHandler(
  supportedApis: () => { apiKey: number; minVersion: number; maxVersion: number }[],
): ApiHandler {
  return {
    api: API_REGISTRY.get(18)!,
    minVersion: 0,
    maxVersion: 4,
    async handle() {
      return { errorCode: ErrorCode.NONE, apiKeys: supportedApis(), throttleTimeMs: 0 };
    },
  };
}
