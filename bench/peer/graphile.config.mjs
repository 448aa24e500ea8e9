// PostGraphile 5, the benchmark's peer: the bench agency's tables, read-only, as the
// agency_peer_staff role (bench/peer/rls.sql). bench/peer.py starts it with
//   node_modules/node/bin/node node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs
// and these environment variables:
//   PEER_DATABASE_URL  postgres://agency_peer_staff:...@127.0.0.1:5432/<the bench database>
//   PEER_PORT          the port to listen on (127.0.0.1 only)
//
// A request with the header X-Portal-Client: <client id> runs as a portal user: PostGraphile
// switches to the agency_peer_portal role with jwt.claims.client_id set, and PostgreSQL's
// row-level security policies limit what it reads. The header is trusted as it is: this is a
// benchmark's stand-in for a signed token, on 127.0.0.1, not an authentication scheme.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

const connectionString = process.env.PEER_DATABASE_URL;
if (!connectionString) {
  throw new Error("PEER_DATABASE_URL is not set");
}

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  // Order by any column, as PostGraphile 4 did, not only by indexed ones: the API's orders
  // (projects by start date, tasks by position) have no index in either server.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [makePgService({ connectionString, schemas: ["public"] })],
  gather: {
    // Expose only what agency_peer_staff was granted (tables, columns, functions).
    pgIgnoreRBAC: false,
  },
  grafast: {
    explain: false,
    context(requestContext, args) {
      const header = requestContext.node?.req?.headers["x-portal-client"];
      if (header === undefined) {
        return {};
      }
      const clientId = String(header);
      if (!/^[0-9]+$/.test(clientId)) {
        throw new Error("X-Portal-Client must be a client id");
      }
      return {
        pgSettings: {
          ...args.contextValue?.pgSettings,
          role: "agency_peer_portal",
          "jwt.claims.client_id": clientId,
        },
      };
    },
  },
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PEER_PORT ?? 5678),
    graphiql: false,
    watch: false,
    maxRequestLength: 1_000_000,
  },
};

export default preset;
