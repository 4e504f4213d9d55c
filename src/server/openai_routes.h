// The /v1 routes (OpenAI's API) on folio's server.
#pragma once

namespace httplib {
class Server;
}

namespace folio {

class Store;
class Scheduler;

void add_openai_routes(httplib::Server& http, Store& store, Scheduler& sched);

}  // namespace folio
