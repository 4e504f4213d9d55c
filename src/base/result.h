// Result<T>: a value or an Error a user can cause (bad file, bad request,
// I/O). Broken invariants are not Errors; they are FOLIO_CHECK failures.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "base/check.h"

namespace folio {

// One line that names the cause (and where: offset, key, tensor, path) and,
// when known, what to do about it.
struct Error {
  std::string message;
};

// printf-style formatting into a std::string.
std::string strfmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Returns Error{strfmt(fmt, ...)}.
Error make_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }

  T& value() & { FOLIO_CHECK(ok()); return std::get<0>(v_); }
  const T& value() const& { FOLIO_CHECK(ok()); return std::get<0>(v_); }
  T&& value() && { FOLIO_CHECK(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { FOLIO_CHECK(!ok()); return std::get<1>(v_); }
  Error take_error() { FOLIO_CHECK(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  const Error& error() const { FOLIO_CHECK(!ok_); return error_; }
  Error take_error() { FOLIO_CHECK(!ok_); return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace folio

// Returns the error of a failed Result<...> expression from the enclosing
// function (which must return a Result or an Error).
#define FOLIO_TRY(expr)                               \
  do {                                                \
    auto folio_try_r_ = (expr);                       \
    if (!folio_try_r_.ok()) return folio_try_r_.take_error(); \
  } while (0)

#define FOLIO_CONCAT_INNER_(a, b) a##b
#define FOLIO_CONCAT_(a, b) FOLIO_CONCAT_INNER_(a, b)

// FOLIO_ASSIGN_OR_RETURN(auto x, f()); declares/assigns x or returns the error.
#define FOLIO_ASSIGN_OR_RETURN(lhs, expr) \
  FOLIO_ASSIGN_OR_RETURN_IMPL_(FOLIO_CONCAT_(folio_r_, __LINE__), lhs, expr)
#define FOLIO_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.take_error();            \
  lhs = std::move(tmp).value()
