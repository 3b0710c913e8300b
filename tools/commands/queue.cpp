// queue, queue retry, queue watch: the ingest backlog as an operator sees it.
#include "ingest/disk_space.hpp"
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/format.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ostream>
#include <thread>

namespace photodrop::ctl {

namespace {

int64_t count(const QueueStats& stats, UploadState state) {
    auto it = stats.by_state.find(state);
    return it == stats.by_state.end() ? 0 : it->second;
}

// Uploads that still wait for the ingest service.
int64_t backlog(const QueueStats& stats) {
    return count(stats, UploadState::Queued) + count(stats, UploadState::Processing);
}

// Uploads the ingest service is done with, one way or another.
int64_t finished(const QueueStats& stats) {
    return count(stats, UploadState::Ingested) + count(stats, UploadState::Rejected) +
           count(stats, UploadState::Failed);
}

std::optional<int64_t> oldest_age_seconds(const QueueStats& stats) {
    if (!stats.oldest_queued_ns) return std::nullopt;
    return std::max<int64_t>(0, (now_ns() - *stats.oldest_queued_ns) / 1'000'000'000);
}

// Whether the ingest service has room to work: the data directory's free
// space against the floor below which it claims nothing.
struct SpaceView {
    std::optional<int64_t> free_bytes;
    int64_t floor = 0;
    int64_t uploads_waiting = 0;  // put back after running out of space
    bool below_floor() const { return free_bytes && *free_bytes < floor; }
    bool waiting() const { return below_floor() || uploads_waiting > 0; }
};

SpaceView space_view(Context& ctx, const QueueStats& stats) {
    auto space = ingest::disk_space(ctx.config.data);
    return SpaceView{space ? std::optional<int64_t>(space->free_bytes) : std::nullopt,
                     ingest::ingest_space_floor(ctx.config), stats.waiting_for_space};
}

int show_queue(Context& ctx) {
    auto stats = ctx.catalog().queue_stats();
    auto age = oldest_age_seconds(stats);
    auto space = space_view(ctx, stats);
    if (ctx.json) {
        ctx.print_json({{"by_state", state_counts_json(stats.by_state)},
                        {"backlog", backlog(stats)},
                        {"oldest_queued_age_seconds", age ? nlohmann::json(*age) : nlohmann::json(nullptr)},
                        {"waiting_for_space", space.waiting()},
                        {"uploads_waiting_for_space", space.uploads_waiting},
                        {"data_free_bytes", space.free_bytes ? nlohmann::json(*space.free_bytes) : nlohmann::json(nullptr)},
                        {"ingest_space_floor_bytes", space.floor}});
        return exit_ok;
    }
    Table table({"STATE", "UPLOADS"});
    for (auto s : all_upload_states) table.add({std::string(to_string(s)), std::to_string(count(stats, s))});
    table.print(ctx.io.out);
    ctx.io.out << fmt::format("backlog: {} (queued + processing)\n", backlog(stats));
    if (age) ctx.io.out << fmt::format("oldest queued upload: waiting {}\n", human_duration(*age));
    else ctx.io.out << "oldest queued upload: none queued\n";
    if (!space.free_bytes)
        ctx.io.out << fmt::format("data directory {}: free space unknown\n", ctx.config.data);
    else if (space.below_floor())
        ctx.io.out << fmt::format("waiting for disk space: {} free in {}, below the {} the ingest service needs; it "
                                  "claims no upload until there is more\n",
                                  format_size(*space.free_bytes), ctx.config.data, format_size(space.floor));
    else
        ctx.io.out << fmt::format("data directory {}: {} free\n", ctx.config.data, format_size(*space.free_bytes));
    if (space.uploads_waiting > 0)
        ctx.io.out << fmt::format("{} upload{} waiting for disk space: the disk was full when {} tried; tried "
                                  "again as space returns\n",
                                  space.uploads_waiting, space.uploads_waiting == 1 ? "" : "s",
                                  space.uploads_waiting == 1 ? "it was" : "they were");
    return exit_ok;
}

struct RetryOptions {
    Id upload = 0;
    std::string tenant, job;
};

int retry(Context& ctx, const RetryOptions& o) {
    auto& cat = ctx.catalog();
    if (o.upload) {
        auto u = cat.upload(o.upload);
        if (!u) throw std::runtime_error(fmt::format("no upload {}", o.upload));
        if (u->state != UploadState::Failed && u->state != UploadState::Rejected)
            throw std::runtime_error(fmt::format("upload {} is {}: only failed or rejected uploads can be retried",
                                                 u->id, to_string(u->state)));
        if (u->data_path.empty())
            throw std::runtime_error(
                fmt::format("upload {} cannot be retried: it was refused before any of its bytes were kept", u->id));
        int n = cat.retry_uploads(u->id, std::nullopt);
        if (ctx.json) ctx.print_json({{"requeued", n}, {"upload_id", u->id}});
        else ctx.io.out << fmt::format("upload {} queued again\n", u->id);
        return exit_ok;
    }
    std::optional<Job> job;
    if (!o.job.empty()) job = ctx.job(ctx.tenant(o.tenant), o.job);
    int n = cat.retry_uploads(std::nullopt, job ? std::optional<Id>(job->id) : std::nullopt);
    if (ctx.json) {
        ctx.print_json({{"requeued", n}, {"job", job ? nlohmann::json(job->name) : nlohmann::json(nullptr)}});
    } else {
        ctx.io.out << fmt::format("{} failed or rejected upload{} {}queued again\n", n, n == 1 ? "" : "s",
                                  job ? fmt::format("of job {} ", job->name) : "");
    }
    return exit_ok;
}

struct WatchOptions {
    double interval = 1.0;
    double timeout = 0;  // 0: until the backlog drains
};

std::string progress_bar(int64_t done, int64_t total, int width) {
    int filled = total > 0 ? static_cast<int>(static_cast<double>(width) * static_cast<double>(done) /
                                              static_cast<double>(total))
                           : width;
    filled = std::clamp(filled, 0, width);
    return "[" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '-') +
           "]";
}

int watch(Context& ctx, const WatchOptions& o) {
    using clock = std::chrono::steady_clock;
    auto& cat = ctx.catalog();
    auto& out = ctx.io.out;
    auto start = clock::now();
    auto first = cat.queue_stats();
    int64_t finished_at_start = finished(first);
    std::optional<int64_t> last_shown;

    for (auto stats = first;; stats = cat.queue_stats()) {
        double elapsed = std::chrono::duration<double>(clock::now() - start).count();
        int64_t left = backlog(stats);
        int64_t done = std::max<int64_t>(0, finished(stats) - finished_at_start);
        double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
        int64_t processing = count(stats, UploadState::Processing);

        if (ctx.json) {
            if (last_shown != left)
                out << nlohmann::json{{"elapsed_seconds", std::round(elapsed * 10) / 10},
                                      {"queued", count(stats, UploadState::Queued)},
                                      {"processing", processing},
                                      {"done", done},
                                      {"backlog", left}}
                           .dump()
                    << '\n';
        } else if (ctx.io.interactive) {
            std::string eta = rate > 0 ? human_duration(static_cast<int64_t>(static_cast<double>(left) / rate)) : "?";
            out << fmt::format("\r{} {}/{} done, {} left ({} processing), {:.1f}/s, eta {}\x1b[K",
                               progress_bar(done, done + left, 30), done, done + left, left, processing, rate, eta);
        } else if (last_shown != left) {
            out << fmt::format("{} backlog {} ({} queued, {} processing), {} done, {:.1f}/s\n", utc_time(now_ns()),
                               left, count(stats, UploadState::Queued), processing, done, rate);
        }
        out.flush();
        last_shown = left;

        if (left == 0) {
            if (ctx.io.interactive && !ctx.json) out << '\n';
            if (!ctx.json)
                out << fmt::format("backlog drained: {} upload{} done in {}\n", done, done == 1 ? "" : "s",
                                   human_duration(static_cast<int64_t>(elapsed)));
            return exit_ok;
        }
        if (o.timeout > 0 && elapsed >= o.timeout) {
            if (ctx.io.interactive && !ctx.json) out << '\n';
            throw std::runtime_error(fmt::format("timed out after {}: {} upload{} still queued or processing",
                                                 human_duration(static_cast<int64_t>(std::ceil(o.timeout))), left,
                                                 left == 1 ? "" : "s"));
        }
        double pause = o.interval;
        if (o.timeout > 0) pause = std::min(pause, o.timeout - elapsed);
        std::this_thread::sleep_for(std::chrono::duration<double>(std::max(pause, 0.0)));
    }
}

}  // namespace

void add_queue_commands(CLI::App& app, Context& ctx) {
    auto* queue = app.add_subcommand("queue", "The ingest queue: uploads by state and the age of the oldest "
                                              "queued one; retry, watch");
    ctx.on(queue, [&ctx] { return show_queue(ctx); });

    auto retry_opts = std::make_shared<RetryOptions>();
    auto* retry_cmd = queue->add_subcommand("retry", "Queue failed or rejected uploads again: one upload, a job's, "
                                                     "or (with neither) all of them");
    auto* upload_opt = retry_cmd->add_option("--upload,-u", retry_opts->upload, "One upload, by id")
                           ->type_name("ID")
                           ->check(CLI::PositiveNumber);
    auto* job_opt = retry_cmd->add_option("--job,-j", retry_opts->job, "Every failed or rejected upload of a job")
                        ->type_name("NAME");
    add_tenant_option(retry_cmd, retry_opts->tenant)->needs(job_opt);
    upload_opt->excludes(job_opt);
    retry_cmd->footer("Uploads refused by name (no bytes kept) cannot be retried.");
    ctx.on(retry_cmd, [&ctx, o = retry_opts] { return retry(ctx, *o); });

    auto watch_opts = std::make_shared<WatchOptions>();
    auto* watch_cmd = queue->add_subcommand("watch", "Follow the backlog until nothing is queued or processing: a "
                                                     "progress bar on a terminal, plain lines otherwise");
    watch_cmd->add_option("--interval", watch_opts->interval, "Seconds between looks at the queue")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    watch_cmd->add_option("--timeout", watch_opts->timeout,
                          "Give up (exit 1) after this many seconds; 0 waits until the backlog drains")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    ctx.on(watch_cmd, [&ctx, o = watch_opts] { return watch(ctx, *o); });
}

}  // namespace photodrop::ctl
