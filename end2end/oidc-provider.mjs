// A real OpenID Connect provider for the browser tests (oauth2-mock-server):
// discovery, authorize (answering at once, as a signed-in user would), token
// with PKCE, and userinfo naming a QA engineer in the acme-retail/qa group.
//   node end2end/oidc-provider.mjs <port>
import { OAuth2Server } from 'oauth2-mock-server';

const port = Number(process.argv[2] ?? 3102);
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
server.service.on('beforeUserinfo', (userinfo) => {
  userinfo.body = {
    sub: 'quinn.avery',
    preferred_username: 'quinn.avery',
    name: 'Quinn Avery',
    groups: ['acme-retail/qa'],
  };
});
await server.start(port, '127.0.0.1');
console.log(`OpenID Connect provider at ${server.issuer.url}`);
