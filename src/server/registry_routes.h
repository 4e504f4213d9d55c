// POST /api/pull and POST /api/push on folio's server (server/registry/pull.h
// does the work): `model` (or `name`), `insecure`, `stream` (default true:
// NDJSON progress, a failure as the last {"error"} line; false: one reply
// with the error's status).
#pragma once

#include <mutex>

namespace httplib {
class Server;
}

namespace folio {

class Store;

// write_mu: the server's lock on store writes (held while a pulled
// manifest is written).
void add_registry_routes(httplib::Server& http, Store& store, std::mutex& write_mu);

}  // namespace folio
