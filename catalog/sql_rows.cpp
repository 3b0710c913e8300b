// Rows of a statement's result, read by column name.
#include "catalog/sql.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace photodrop::sql {

Rows::Rows(std::vector<std::string> names, std::vector<Value> cells, int64_t affected)
    : names_(std::move(names)), cells_(std::move(cells)), affected_(affected) {
    by_name_.reserve(names_.size());
    for (size_t i = 0; i < names_.size(); ++i) by_name_.emplace_back(names_[i], i);
    std::sort(by_name_.begin(), by_name_.end());
}

size_t Rows::column(std::string_view name) const {
    auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                               [](const auto& entry, std::string_view n) { return entry.first < n; });
    if (it == by_name_.end() || it->first != name)
        throw Error(Error::Kind::Other, fmt::format("no column '{}' in the result", name));
    if (auto next = std::next(it); next != by_name_.end() && next->first == name)
        throw Error(Error::Kind::Other, fmt::format("two columns of the result are named '{}'", name));
    return it->second;
}

const Value& Rows::Row::cell(std::string_view column) const {
    return rows_->cells_[index_ * rows_->names_.size() + rows_->column(column)];
}

bool Rows::Row::is_null(std::string_view column) const { return std::holds_alternative<std::nullptr_t>(cell(column)); }

std::optional<int64_t> Rows::Row::opt_integer(std::string_view column) const {
    const Value& v = cell(column);
    if (auto* i = std::get_if<int64_t>(&v)) return *i;
    if (auto* s = std::get_if<std::string>(&v)) {
        int64_t out = 0;
        auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
        if (ec != std::errc() || end != s->data() + s->size())
            throw Error(Error::Kind::Other, fmt::format("column '{}' holds '{}', not an integer", column, *s));
        return out;
    }
    return std::nullopt;
}

int64_t Rows::Row::integer(std::string_view column) const { return opt_integer(column).value_or(0); }

std::optional<std::string> Rows::Row::opt_text(std::string_view column) const {
    const Value& v = cell(column);
    if (auto* s = std::get_if<std::string>(&v)) return *s;
    if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    return std::nullopt;
}

std::string Rows::Row::text(std::string_view column) const { return opt_text(column).value_or(std::string()); }

}  // namespace photodrop::sql
