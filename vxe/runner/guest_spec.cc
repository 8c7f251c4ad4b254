#include "vxe/runner/guest_spec.h"

#include <cerrno>
#include <cstdlib>

namespace xehil::vxe {
namespace {

bool ParseInt(const std::string& text, long long* value) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  *value = std::strtoll(text.c_str(), &end, 10);
  return errno == 0 && end == text.c_str() + text.size();
}

bool ParseDouble(const std::string& text, double* value) {
  if (text.empty()) return false;
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// Sets *out from an integer field, or says why not.
bool IntField(const std::pair<std::string, std::string>& field, int* out,
              std::string* error) {
  long long value = 0;
  if (!ParseInt(field.second, &value) || value < -2147483648LL ||
      value > 2147483647LL) {
    *error = field.first + ": not an integer: '" + field.second + "'";
    return false;
  }
  *out = static_cast<int>(value);
  return true;
}

}  // namespace

std::string EncodeFields(const Fields& fields) {
  std::string text;
  for (const auto& [name, value] : fields) {
    text += name + " " + std::to_string(value.size()) + ":" + value + "\n";
  }
  return text;
}

bool DecodeFields(const std::string& text, Fields* fields, std::string* error) {
  fields->clear();
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t space = text.find(' ', pos);
    const size_t colon =
        space == std::string::npos ? space : text.find(':', space);
    long long length = 0;
    if (colon == std::string::npos ||
        !ParseInt(text.substr(space + 1, colon - space - 1), &length) ||
        length < 0 ||
        static_cast<size_t>(length) + 1 > text.size() - colon - 1 ||
        text[colon + 1 + static_cast<size_t>(length)] != '\n') {
      *error = "malformed field at byte " + std::to_string(pos);
      return false;
    }
    fields->emplace_back(text.substr(pos, space - pos),
                         text.substr(colon + 1, static_cast<size_t>(length)));
    pos = colon + 1 + static_cast<size_t>(length) + 1;
  }
  return true;
}

std::string EncodeGuestSpec(const GuestSpec& spec) {
  Fields fields;
  for (const std::string& arg : spec.argv) fields.emplace_back("arg", arg);
  for (const std::string& var : spec.env) fields.emplace_back("env", var);
  fields.emplace_back("cwd", spec.cwd);
  for (const std::string& module : spec.modules) {
    fields.emplace_back("module", module);
  }
  for (const std::string& arg : spec.daemon) {
    fields.emplace_back("daemon_arg", arg);
  }
  fields.emplace_back("daemon_ready_timeout_ms",
                      std::to_string(spec.daemon_ready_timeout_ms));
  fields.emplace_back("daemon_stop_timeout_ms",
                      std::to_string(spec.daemon_stop_timeout_ms));
  return EncodeFields(fields);
}

bool DecodeGuestSpec(const std::string& text, GuestSpec* spec,
                     std::string* error) {
  Fields fields;
  if (!DecodeFields(text, &fields, error)) return false;
  *spec = GuestSpec();
  for (const auto& field : fields) {
    const std::string& name = field.first;
    if (name == "arg") {
      spec->argv.push_back(field.second);
    } else if (name == "env") {
      spec->env.push_back(field.second);
    } else if (name == "cwd") {
      spec->cwd = field.second;
    } else if (name == "module") {
      spec->modules.push_back(field.second);
    } else if (name == "daemon_arg") {
      spec->daemon.push_back(field.second);
    } else if (name == "daemon_ready_timeout_ms") {
      if (!IntField(field, &spec->daemon_ready_timeout_ms, error)) return false;
    } else if (name == "daemon_stop_timeout_ms") {
      if (!IntField(field, &spec->daemon_stop_timeout_ms, error)) return false;
    } else {
      *error = "unknown field '" + name + "'";
      return false;
    }
  }
  if (spec->argv.empty()) {
    *error = "no program (no 'arg' field)";
    return false;
  }
  return true;
}

std::string EncodeGuestStatus(const GuestStatus& status) {
  Fields fields;
  if (!status.error.empty()) fields.emplace_back("error", status.error);
  if (status.program_ran) {
    fields.emplace_back("program_wait_status",
                        std::to_string(status.program_wait_status));
  }
  if (status.exec_errno != 0) {
    fields.emplace_back("exec_errno", std::to_string(status.exec_errno));
  }
  if (status.daemon_ran) {
    fields.emplace_back("daemon_wait_status",
                        std::to_string(status.daemon_wait_status));
  }
  if (status.daemon_killed) fields.emplace_back("daemon_killed", "1");
  fields.emplace_back("boot_to_program_ms",
                      std::to_string(status.boot_to_program_ms));
  fields.emplace_back("program_ms", std::to_string(status.program_ms));
  return EncodeFields(fields);
}

bool DecodeGuestStatus(const std::string& text, GuestStatus* status,
                       std::string* error) {
  Fields fields;
  if (!DecodeFields(text, &fields, error)) return false;
  *status = GuestStatus();
  for (const auto& field : fields) {
    const std::string& name = field.first;
    bool ok = true;
    if (name == "error") {
      status->error = field.second;
    } else if (name == "program_wait_status") {
      status->program_ran = true;
      ok = IntField(field, &status->program_wait_status, error);
    } else if (name == "exec_errno") {
      ok = IntField(field, &status->exec_errno, error);
    } else if (name == "daemon_wait_status") {
      status->daemon_ran = true;
      ok = IntField(field, &status->daemon_wait_status, error);
    } else if (name == "daemon_killed") {
      status->daemon_killed = field.second == "1";
    } else if (name == "boot_to_program_ms") {
      ok = ParseDouble(field.second, &status->boot_to_program_ms);
    } else if (name == "program_ms") {
      ok = ParseDouble(field.second, &status->program_ms);
    } else {
      *error = "unknown field '" + name + "'";
      return false;
    }
    if (!ok) {
      if (error->empty()) *error = name + ": malformed '" + field.second + "'";
      return false;
    }
  }
  return true;
}

}  // namespace xehil::vxe
