// gMock matchers and assertion macros for absl::Status / absl::StatusOr<T>, since Abseil
// 20220623 ships no status_matchers.h: IsOk(), IsOkAndHolds(m), StatusIs(code[, message]).
#ifndef ETCDGRPC_TESTS_SUPPORT_STATUS_MATCHERS_H_
#define ETCDGRPC_TESTS_SUPPORT_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace etcdgrpc::testing {
namespace status_internal {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

class IsOkMatcher {
 public:
  template <typename StatusLike>
  bool MatchAndExplain(const StatusLike& value, ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(value);
    // gMock already prints an absl::Status; a StatusOr prints as bytes, so name its status.
    if (!status.ok() && !std::is_same_v<StatusLike, absl::Status>) {
      *listener << "which has status " << status;
    }
    return status.ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

template <typename StatusLike>
class StatusIsMatcherImpl : public ::testing::MatcherInterface<const StatusLike&> {
 public:
  StatusIsMatcherImpl(::testing::Matcher<absl::StatusCode> code,
                      ::testing::Matcher<const std::string&> message)
      : code_(std::move(code)), message_(std::move(message)) {}

  bool MatchAndExplain(const StatusLike& value,
                       ::testing::MatchResultListener* listener) const override {
    const absl::Status& status = GetStatus(value);
    if (!std::is_same_v<StatusLike, absl::Status>) *listener << "which has status " << status;
    ::testing::StringMatchResultListener inner;
    if (!code_.MatchAndExplain(status.code(), &inner)) {
      if (!inner.str().empty()) *listener << ", whose code " << inner.str();
      return false;
    }
    const std::string message(status.message());
    if (!message_.MatchAndExplain(message, &inner)) {
      if (!inner.str().empty()) *listener << ", whose message " << inner.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "has a status code that ";
    code_.DescribeTo(os);
    *os << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has a status code that ";
    code_.DescribeNegationTo(os);
    *os << " or a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  ::testing::Matcher<absl::StatusCode> code_;
  ::testing::Matcher<const std::string&> message_;
};

// Polymorphic: converts to a Matcher of absl::Status or of any absl::StatusOr<T>.
class StatusIsMatcher {
 public:
  StatusIsMatcher(::testing::Matcher<absl::StatusCode> code,
                  ::testing::Matcher<const std::string&> message)
      : code_(std::move(code)), message_(std::move(message)) {}

  template <typename StatusLike>
  operator ::testing::Matcher<StatusLike>() const {  // NOLINT(google-explicit-constructor)
    using Bare = std::remove_cv_t<std::remove_reference_t<StatusLike>>;
    return ::testing::Matcher<StatusLike>(new StatusIsMatcherImpl<Bare>(code_, message_));
  }

 private:
  ::testing::Matcher<absl::StatusCode> code_;
  ::testing::Matcher<const std::string&> message_;
};

template <typename T>
class IsOkAndHoldsMatcherImpl : public ::testing::MatcherInterface<const absl::StatusOr<T>&> {
 public:
  explicit IsOkAndHoldsMatcherImpl(::testing::Matcher<const T&> inner) : inner_(std::move(inner)) {}

  bool MatchAndExplain(const absl::StatusOr<T>& value,
                       ::testing::MatchResultListener* listener) const override {
    if (!value.ok()) {
      *listener << "which has status " << value.status();
      return false;
    }
    ::testing::StringMatchResultListener inner;
    const bool matches = inner_.MatchAndExplain(*value, &inner);
    *listener << "which contains value " << ::testing::PrintToString(*value);
    if (!inner.str().empty()) *listener << ", " << inner.str();
    return matches;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "is OK and has a value that ";
    inner_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "isn't OK or has a value that ";
    inner_.DescribeNegationTo(os);
  }

 private:
  ::testing::Matcher<const T&> inner_;
};

template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename StatusOrLike>
  operator ::testing::Matcher<StatusOrLike>() const {  // NOLINT(google-explicit-constructor)
    using StatusOrType = std::remove_cv_t<std::remove_reference_t<StatusOrLike>>;
    using T = typename StatusOrType::value_type;
    return ::testing::Matcher<StatusOrLike>(
        new IsOkAndHoldsMatcherImpl<T>(::testing::SafeMatcherCast<const T&>(inner_)));
  }

 private:
  InnerMatcher inner_;
};

}  // namespace status_internal

// Matches an OK absl::Status or absl::StatusOr<T>.
inline ::testing::PolymorphicMatcher<status_internal::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(status_internal::IsOkMatcher());
}

// Matches an OK absl::StatusOr<T> whose value matches `inner` (a matcher or a value).
template <typename InnerMatcher>
status_internal::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>> IsOkAndHolds(
    InnerMatcher&& inner) {
  return status_internal::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>>(
      std::forward<InnerMatcher>(inner));
}

// StatusIs(code) / StatusIs(code, message): `code` is an absl::StatusCode or a matcher of one;
// `message` is a string or a string matcher such as ::testing::HasSubstr("lease not found").
template <typename CodeMatcher, typename MessageMatcher>
status_internal::StatusIsMatcher StatusIs(CodeMatcher&& code, MessageMatcher&& message) {
  return status_internal::StatusIsMatcher(
      ::testing::MatcherCast<absl::StatusCode>(std::forward<CodeMatcher>(code)),
      ::testing::MatcherCast<const std::string&>(std::forward<MessageMatcher>(message)));
}

template <typename CodeMatcher>
status_internal::StatusIsMatcher StatusIs(CodeMatcher&& code) {
  return StatusIs(std::forward<CodeMatcher>(code), ::testing::_);
}

}  // namespace etcdgrpc::testing

#define ETCDGRPC_STATUS_CONCAT_INNER_(a, b) a##b
#define ETCDGRPC_STATUS_CONCAT_(a, b) ETCDGRPC_STATUS_CONCAT_INNER_(a, b)

// EXPECT_OK(expr) / ASSERT_OK(expr): expr is an absl::Status or absl::StatusOr<T>.
#ifndef EXPECT_OK
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::etcdgrpc::testing::IsOk())
#endif
#ifndef ASSERT_OK
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::etcdgrpc::testing::IsOk())
#endif

// ASSERT_OK_AND_ASSIGN(lhs, expr): evaluates the absl::StatusOr<T> `expr`; on error fails the
// test (returning from the current void function) with the status; otherwise moves the value
// into `lhs`, which may declare a variable (`auto etcd`). A type containing a comma must be
// spelled through an alias or `auto`.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                                          \
  ETCDGRPC_ASSERT_OK_AND_ASSIGN_IMPL_(ETCDGRPC_STATUS_CONCAT_(etcdgrpc_statusor_, __LINE__), lhs, \
                                      rexpr)

#define ETCDGRPC_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                        \
  ASSERT_TRUE(statusor.ok()) << statusor.status();                \
  lhs = std::move(statusor).value()

#endif  // ETCDGRPC_TESTS_SUPPORT_STATUS_MATCHERS_H_
