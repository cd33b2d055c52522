// Go's text conventions that etcdctl's input and messages follow: strconv's
// Quote/Unquote/ParseInt (with Go's error texts), fmt's %q scanning and
// strings.TrimSpace, so the same input is accepted and rejected alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace etcdgrpc::cli {

// strconv.Quote: a double-quoted Go string literal.
[[nodiscard]] std::string GoQuote(std::string_view text);

// strconv.Unquote of a double-quoted or back-quoted literal; the error message
// is Go's "invalid syntax".
[[nodiscard]] absl::StatusOr<std::string> GoUnquote(std::string_view literal);

// strconv.ParseInt(text, base, 64) for base 10 or 16, with Go's error text:
// `strconv.ParseInt: parsing "x": invalid syntax` / `...: value out of range`.
[[nodiscard]] absl::StatusOr<int64_t> GoParseInt(std::string_view text, int base);

// strings.TrimSpace for ASCII white space.
[[nodiscard]] std::string_view GoTrimSpace(std::string_view text);

// The white space of Go's fmt scanning (ASCII part of unicode.IsSpace).
[[nodiscard]] bool IsGoSpace(char c);

// Reads input the way Go's fmt.Sscanf does for the verbs etcdctl uses. Each
// call consumes input only on success, as far as the caller cares: after a
// failure the scan is over.
class GoScanner {
 public:
  explicit GoScanner(std::string_view input) : input_(input) {}

  // %q: skips white space, then reads a "double-quoted" (Go escapes) or
  // `back-quoted` string.
  [[nodiscard]] bool ScanQuoted(std::string* out);
  // %s: skips white space, then reads up to the next white space.
  [[nodiscard]] bool ScanWord(std::string* out);
  // A literal character of the format.
  [[nodiscard]] bool MatchLiteral(char c);
  // A space in the format: one or more spaces in the input, or its end.
  [[nodiscard]] bool MatchSpace();

 private:
  void SkipSpace();
  std::string_view input_;
  size_t pos_ = 0;
};

// Replaces every byte that is not part of valid UTF-8 with U+FFFD, as Go does
// when it reads runes from a string.
[[nodiscard]] std::string ToValidUtf8(std::string_view text);

}  // namespace etcdgrpc::cli
