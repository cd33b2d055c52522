#include "cli/go_text.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace etcdgrpc::cli {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr uint32_t kRuneError = 0xFFFD;

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the valid UTF-8 sequence at text[pos] (storing its code point), or
// 0 when the byte there does not start one. Same acceptance as Go's
// utf8.DecodeRune: no overlong forms, no surrogates, nothing above U+10FFFF.
size_t DecodeRune(std::string_view text, size_t pos, uint32_t* rune) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const size_t left = text.size() - pos;
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) {
    *rune = b0;
    return 1;
  }
  size_t size = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    size = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    size = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    size = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (left < size) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < size; ++i) {
    if (!IsContinuation(byte(i))) return 0;
  }
  uint32_t value = b0 & (size == 2 ? 0x1F : size == 3 ? 0x0F : 0x07);
  for (size_t i = 1; i < size; ++i) value = (value << 6) | (byte(i) & 0x3F);
  *rune = value;
  return size;
}

void AppendRune(uint32_t rune, std::string* out) {
  if (rune < 0x80) {
    out->push_back(static_cast<char>(rune));
  } else if (rune < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (rune >> 6)));
    out->push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  } else if (rune < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (rune >> 12)));
    out->push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (rune >> 18)));
    out->push_back(static_cast<char>(0x80 | ((rune >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((rune >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (rune & 0x3F)));
  }
}

bool IsValidRune(uint32_t rune) { return rune <= 0x10FFFF && !(rune >= 0xD800 && rune <= 0xDFFF); }

// Go's unicode.IsPrint for the non-ASCII runes that matter in practice:
// controls, format characters and spaces other than U+0020 are escaped.
bool IsPrintNonAscii(uint32_t r) {
  if (r <= 0xA0 || r == 0xAD) return false;
  if (r == 0x1680 || (r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F)) return false;
  if ((r >= 0x205F && r <= 0x206F) || r == 0x3000 || r == 0xFEFF) return false;
  if ((r >= 0xFFF9 && r <= 0xFFFB) || (r >= 0xE000 && r <= 0xF8FF)) return false;
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status SyntaxError() { return absl::InvalidArgumentError("invalid syntax"); }

// The body of a double-quoted literal (without the quotes), unescaped like
// strconv.UnquoteChar does in a loop.
absl::StatusOr<std::string> UnescapeDoubleQuoted(std::string_view body) {
  std::string out;
  size_t i = 0;
  while (i < body.size()) {
    const char c = body[i];
    if (c == '"' || c == '\n') return SyntaxError();
    if (c != '\\') {
      uint32_t rune = 0;
      size_t size = DecodeRune(body, i, &rune);
      if (size == 0) {
        AppendRune(kRuneError, &out);
        size = 1;
      } else {
        out.append(body.substr(i, size));
      }
      i += size;
      continue;
    }
    if (i + 1 >= body.size()) return SyntaxError();
    const char e = body[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '"':
        out.push_back('"');
        break;
      case 'x':
      case 'u':
      case 'U': {
        const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (body.size() - i < n) return SyntaxError();
        uint32_t value = 0;
        for (size_t j = 0; j < n; ++j) {
          const int digit = HexValue(body[i + j]);
          if (digit < 0) return SyntaxError();
          value = (value << 4) | static_cast<uint32_t>(digit);
        }
        i += n;
        if (e == 'x') {
          // A single byte, possibly not UTF-8.
          out.push_back(static_cast<char>(value));
        } else {
          if (!IsValidRune(value)) return SyntaxError();
          AppendRune(value, &out);
        }
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        uint32_t value = static_cast<uint32_t>(e - '0');
        if (body.size() - i < 2) return SyntaxError();
        for (size_t j = 0; j < 2; ++j) {
          const char d = body[i + j];
          if (d < '0' || d > '7') return SyntaxError();
          value = (value << 3) | static_cast<uint32_t>(d - '0');
        }
        i += 2;
        if (value > 255) return SyntaxError();
        out.push_back(static_cast<char>(value));
        break;
      }
      default:
        return SyntaxError();
    }
  }
  return out;
}

}  // namespace

std::string GoQuote(std::string_view text) {
  std::string out = "\"";
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    uint32_t rune = 0;
    const size_t size = DecodeRune(text, i, &rune);
    if (size == 0) {
      absl::StrAppend(&out, "\\x", std::string(1, kHex[c >> 4]), std::string(1, kHex[c & 0xF]));
      i += 1;
      continue;
    }
    i += size;
    if (rune == '"' || rune == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(rune));
    } else if (rune >= 0x20 && rune < 0x7F) {
      out.push_back(static_cast<char>(rune));
    } else if (rune >= 0x80 && IsPrintNonAscii(rune)) {
      AppendRune(rune, &out);
    } else {
      switch (rune) {
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (rune < 0x20 || rune == 0x7F) {
            out += "\\x";
            out.push_back(kHex[rune >> 4]);
            out.push_back(kHex[rune & 0xF]);
          } else {
            const bool wide = rune >= 0x10000;
            out += wide ? "\\U" : "\\u";
            for (int shift = wide ? 28 : 12; shift >= 0; shift -= 4) {
              out.push_back(kHex[(rune >> shift) & 0xF]);
            }
          }
      }
    }
  }
  out.push_back('"');
  return out;
}

absl::StatusOr<std::string> GoUnquote(std::string_view literal) {
  if (literal.size() < 2 || literal.front() != literal.back()) return SyntaxError();
  const std::string_view body = literal.substr(1, literal.size() - 2);
  if (literal.front() == '`') {
    if (body.find('`') != std::string_view::npos) return SyntaxError();
    std::string out;
    // Go drops carriage returns from raw strings.
    for (char c : body) {
      if (c != '\r') out.push_back(c);
    }
    return out;
  }
  if (literal.front() != '"') return SyntaxError();
  return UnescapeDoubleQuoted(body);
}

absl::StatusOr<int64_t> GoParseInt(std::string_view text, int base) {
  const auto error = [&](const char* why) {
    return absl::InvalidArgumentError(
        absl::StrCat("strconv.ParseInt: parsing ", GoQuote(text), ": ", why));
  };
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return error("invalid syntax");
  const uint64_t cutoff = std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(base) + 1;
  uint64_t value = 0;
  for (char c : digits) {
    const int digit = HexValue(c);
    if (digit < 0 || digit >= base) return error("invalid syntax");
    // Like Go's ParseUint, overflow ends the scan: the rest is not checked.
    if (value >= cutoff) return error("value out of range");
    const uint64_t next = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
    if (next < value * static_cast<uint64_t>(base)) return error("value out of range");
    value = next;
  }
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  if (!negative && value >= kLimit) return error("value out of range");
  if (negative && value > kLimit) return error("value out of range");
  if (negative)
    return value == kLimit ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(value);
  return static_cast<int64_t>(value);
}

bool IsGoSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view GoTrimSpace(std::string_view text) {
  while (!text.empty() && IsGoSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsGoSpace(text.back())) text.remove_suffix(1);
  return text;
}

std::string ToValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    uint32_t rune = 0;
    const size_t size = DecodeRune(text, i, &rune);
    if (size == 0) {
      AppendRune(kRuneError, &out);
      ++i;
    } else {
      out.append(text.substr(i, size));
      i += size;
    }
  }
  return out;
}

void GoScanner::SkipSpace() {
  while (pos_ < input_.size() && IsGoSpace(input_[pos_])) ++pos_;
}

bool GoScanner::ScanQuoted(std::string* out) {
  SkipSpace();
  if (pos_ >= input_.size()) return false;
  const char quote = input_[pos_];
  if (quote == '`') {
    const size_t end = input_.find('`', pos_ + 1);
    if (end == std::string_view::npos) return false;
    // fmt reads raw strings rune by rune without strconv.Unquote: carriage
    // returns stay, invalid bytes become U+FFFD.
    *out = ToValidUtf8(input_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return true;
  }
  if (quote != '"') return false;
  // Find the closing quote: only the character right after a backslash can be
  // an escaped quote.
  size_t i = pos_ + 1;
  while (true) {
    if (i >= input_.size()) return false;
    if (input_[i] == '\\') {
      if (i + 1 >= input_.size()) return false;
      i += 2;
      continue;
    }
    if (input_[i] == '"') break;
    ++i;
  }
  // fmt hands strconv.Unquote runes it decoded, so invalid bytes arrive as
  // U+FFFD; a byte after a backslash is never part of a valid escape if it is
  // not ASCII, so replacing first changes no outcome.
  absl::StatusOr<std::string> value = GoUnquote(ToValidUtf8(input_.substr(pos_, i + 1 - pos_)));
  if (!value.ok()) return false;
  *out = *std::move(value);
  pos_ = i + 1;
  return true;
}

bool GoScanner::ScanWord(std::string* out) {
  SkipSpace();
  if (pos_ >= input_.size()) return false;
  const size_t start = pos_;
  while (pos_ < input_.size() && !IsGoSpace(input_[pos_])) ++pos_;
  *out = ToValidUtf8(input_.substr(start, pos_ - start));
  return true;
}

bool GoScanner::MatchLiteral(char c) {
  if (pos_ >= input_.size() || input_[pos_] != c) return false;
  ++pos_;
  return true;
}

bool GoScanner::MatchSpace() {
  if (pos_ >= input_.size()) return true;
  if (!IsGoSpace(input_[pos_])) return false;
  SkipSpace();
  return true;
}

}  // namespace etcdgrpc::cli
