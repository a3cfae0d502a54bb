/** API tokens (issue 14's use-case layer): the API's /tokens routes, `hub tokens` and the auth middleware call these. */
export { tokenAuthenticator, type TokenPrincipal } from './authenticate-token';
export { auditTokensLosingCompany } from './company-deleted';
export { issueToken, type IssueTokenInput } from './issue-token';
export { getToken, listTokens } from './list-tokens';
export { revokeTokenAudited } from './revoke-token';
export { scopeOfToken, tokenView, type TokenView } from './token-view';
