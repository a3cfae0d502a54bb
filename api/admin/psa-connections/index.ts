export { psaConnectionsRouter } from './psa-connections.route';
export { psaImportRouter } from './psa-import.route';
export { psaWebhookRouter } from './psa-webhook.route';
