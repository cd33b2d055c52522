#include "cli/password_input.h"

#include <termios.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/exit_status.h"

namespace etcdgrpc::cli {
namespace {

// Go's unicode.IsSpace for the bytes Scanf meets in practice.
bool IsGoSpace(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Echo off on a terminal stdin while a password is typed (what speakeasy's
// `stty -echo` does); nothing when stdin is not a terminal.
class EchoOff {
 public:
  EchoOff() : active_(::isatty(STDIN_FILENO) == 1 && ::tcgetattr(STDIN_FILENO, &saved_) == 0) {
    if (!active_) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  ~EchoOff() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  const bool active_;
};

// speakeasy.Ask: the prompt, one line (a trailing "\r" and surrounding spaces
// dropped), then a newline, since the user's Enter was not echoed.
std::string Ask(CommandEnv& env, const std::string& prompt) {
  env.Print(prompt);
  env.Flush();
  std::string line;
  {
    EchoOff echo_off;
    std::getline(env.in(), line);
  }
  env.Print("\n");
  return std::string(absl::StripAsciiWhitespace(line));
}

}  // namespace

absl::StatusOr<std::string> AskNewPassword(CommandEnv& env, const std::string& name) {
  std::string first = Ask(env, absl::StrCat("Password of ", name, ": "));
  if (first.empty()) return CliError(kExitBadArgs, "empty password");
  std::string second =
      Ask(env, absl::StrCat("Type password of ", name, " again for confirmation: "));
  if (first != second) return CliError(kExitBadArgs, "given passwords are different");
  return first;
}

std::string ScanWord(std::istream& in) {
  std::string word;
  // Scanf skips spaces but not a newline: a newline first is an error there,
  // and the password stays empty.
  for (int c = in.get(); c != std::char_traits<char>::eof(); c = in.get()) {
    if (c == '\n') return word;
    if (!IsGoSpace(c)) {
      word.push_back(static_cast<char>(c));
      break;
    }
  }
  for (int c = in.peek(); c != std::char_traits<char>::eof() && !IsGoSpace(c); c = in.peek()) {
    word.push_back(static_cast<char>(in.get()));
  }
  return word;
}

}  // namespace etcdgrpc::cli
