// MethodLabel (etcdgrpc/resolver/call_engine.h): the gRPC method a pair of
// message types belongs to, found in the messages' descriptors, so that a
// balanced call's errors name the method without the caller spelling it.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "etcdgrpc/resolver/call_engine.h"
#include "google/protobuf/descriptor.h"

namespace etcdgrpc::resolver::call_engine {

std::string MethodLabel(const google::protobuf::Descriptor* request,
                        const google::protobuf::Descriptor* response) {
  std::vector<std::string> found;
  for (const google::protobuf::FileDescriptor* file : {request->file(), response->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const google::protobuf::MethodDescriptor* method = service->method(m);
        if (method->input_type() != request || method->output_type() != response) continue;
        std::string name = absl::StrCat("/", service->full_name(), "/", method->name());
        if (std::find(found.begin(), found.end(), name) == found.end()) found.push_back(name);
      }
    }
  }
  if (found.size() == 1) return found.front();
  return absl::StrCat("(", request->full_name(), " -> ", response->full_name(), ")");
}

}  // namespace etcdgrpc::resolver::call_engine
