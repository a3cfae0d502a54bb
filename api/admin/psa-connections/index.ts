export { psaConnectionsRouter } from './psa-connections.route';
