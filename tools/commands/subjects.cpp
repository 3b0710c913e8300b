// roster import, subjects, subjects assign: who is in each photo of a school job,
// by the cards photographed before them (SPEC.md "Subjects (QR cards)").
#include "tools/commands/commands.hpp"
#include "tools/context.hpp"
#include "tools/format.hpp"
#include "tools/roster.hpp"

#include "catalog/subjects.hpp"
#include "catalog/text.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <ostream>
#include <sstream>

namespace photodrop::ctl {

namespace {

std::optional<Id> album_of(Catalog& cat, const Job& job, const std::string& name) {
    if (name.empty()) return std::nullopt;
    auto a = cat.album(job.id, text::nfc(name).value_or(name));  // albums are stored in NFC
    if (!a) throw std::runtime_error(fmt::format("job {} has no album '{}'", job.name, name));
    return a->id;
}

nlohmann::json report_json(const SubjectsReport& r) {
    auto subjects = nlohmann::json::array();
    for (const auto& s : r.subjects) {
        auto text_of = [&](const std::string RosterEntry::*field) {
            return s.roster ? nlohmann::json(*s.roster.*field) : nlohmann::json(nullptr);
        };
        subjects.push_back({{"code", s.code},
                            {"name", text_of(&RosterEntry::name)},
                            {"class", text_of(&RosterEntry::class_name)},
                            {"external_id", text_of(&RosterEntry::external_id)},
                            {"on_roster", s.roster.has_value()},
                            {"cards", s.cards},
                            {"photos", s.photos}});
    }
    return {{"subjects", subjects},
            {"unassigned", r.unassigned},
            {"not_on_roster", r.not_on_roster},
            {"without_photos", r.without_photos},
            {"only_a_card", r.only_a_card}};
}

int list_subjects(Context& ctx, const JobOptions& o, const std::string& album) {
    auto& cat = ctx.catalog();
    auto job = ctx.job(ctx.tenant(o.tenant), o.job);
    auto report = subjects_report(cat.photos(job.id, album_of(cat, job, album)), cat.roster(job.id));
    if (ctx.json) {
        ctx.print_json(report_json(report));
        return exit_ok;
    }
    auto has = [](const std::vector<std::string>& codes, const std::string& code) {
        return std::find(codes.begin(), codes.end(), code) != codes.end();
    };
    Table table({"CODE", "NAME", "CLASS", "CARDS", "PHOTOS", "FLAG"});
    for (const auto& s : report.subjects) {
        std::string flag = has(report.not_on_roster, s.code) ? "card not on the roster" : "";
        if (has(report.without_photos, s.code)) flag = "no photos";
        if (has(report.only_a_card, s.code)) flag += fmt::format("{}only a card", flag.empty() ? "" : "; ");
        table.add({s.code, s.roster ? s.roster->name : "-", s.roster && !s.roster->class_name.empty() ? s.roster->class_name : "-",
                   std::to_string(s.cards.size()), std::to_string(s.photos.size()), flag});
    }
    if (table.empty()) ctx.io.out << "no subjects: no card read and no roster imported\n";
    else table.print(ctx.io.out);
    if (!report.unassigned.empty())
        ctx.io.out << fmt::format("unassigned (before the first card of their camera): {} photo{}, ids {}\n",
                                  report.unassigned.size(), report.unassigned.size() == 1 ? "" : "s",
                                  fmt::join(report.unassigned, " "));
    return exit_ok;
}

}  // namespace

void add_subjects_commands(CLI::App& app, Context& ctx) {
    // roster import
    auto* roster = app.add_subcommand("roster", "A job's roster: the subjects of its cards' codes");
    roster->require_subcommand(1);
    struct ImportOptions : JobOptions {
        std::string file;
    };
    auto import_opts = std::make_shared<ImportOptions>();
    auto* import = roster->add_subcommand("import", "Import a roster: CSV of code, name, class[, external_id]");
    add_job_options(import, *import_opts);
    import->add_option("file", import_opts->file, "The CSV file ('-': standard input)")->required();
    import->footer("A first line starting with 'code' is a header naming the columns (code, name, class, "
                   "external_id). Entries of a code already on the roster are updated. A bad line refuses the "
                   "whole file, naming the line.");
    ctx.on(import, [&ctx, o = import_opts] {
        auto& cat = ctx.catalog();
        auto job = ctx.job(ctx.tenant(o->tenant), o->job);
        std::stringstream text;
        if (o->file == "-") {
            text << ctx.io.in.rdbuf();
        } else {
            std::ifstream in(o->file, std::ios::binary);
            if (!in) throw std::runtime_error(fmt::format("cannot read {}", o->file));
            text << in.rdbuf();
        }
        auto entries = parse_roster(text.str());
        if (entries.empty()) throw std::runtime_error(fmt::format("{} holds no roster entry", o->file));
        int n = cat.import_roster(job.id, entries);
        if (ctx.json) ctx.print_json({{"job", job.name}, {"imported", n}});
        else ctx.io.out << fmt::format("imported {} roster entr{} into job {}\n", n, n == 1 ? "y" : "ies", job.name);
        return exit_ok;
    });

    // subjects
    struct SubjectsOptions : JobOptions {
        std::string album;
    };
    auto subjects_opts = std::make_shared<SubjectsOptions>();
    auto* subjects = app.add_subcommand("subjects", "List a job's subjects: each card's code, name, class and photos");
    add_job_options(subjects, *subjects_opts, false);
    subjects->add_option("--album,-a", subjects_opts->album, "Only the photos of this album");
    subjects->footer("Flags cards whose code is not on the roster, roster entries with no photos and subjects "
                     "with only a card; lists the photos before the first card of their camera as unassigned.");
    ctx.on(subjects, [&ctx, o = subjects_opts] {
        if (o->job.empty()) throw UsageError("subjects: --job is required");
        return list_subjects(ctx, *o, o->album);
    });

    // subjects assign
    struct AssignOptions : JobOptions {
        Id photo = 0;
        std::string to;
        bool unassigned = false, cards = false;
    };
    auto assign_opts = std::make_shared<AssignOptions>();
    auto* assign = subjects->add_subcommand("assign", "Move a photo to another subject by hand (kept when regrouping)");
    add_job_options(assign, *assign_opts);
    assign->add_option("photo", assign_opts->photo, "The photo's id (photodropctl photos)")->required();
    auto* to = assign->add_option("--to", assign_opts->to, "The subject's code")->type_name("CODE");
    auto* none = assign->add_flag("--unassigned", assign_opts->unassigned, "The photo belongs to no subject");
    auto* cards = assign->add_flag("--cards", assign_opts->cards, "Drop the choice: the cards decide again");
    to->excludes(none)->excludes(cards);
    none->excludes(cards);
    ctx.on(assign, [&ctx, o = assign_opts] {
        if (o->to.empty() && !o->unassigned && !o->cards)
            throw UsageError("subjects assign: say --to CODE, --unassigned or --cards");
        auto& cat = ctx.catalog();
        auto job = ctx.job(ctx.tenant(o->tenant), o->job);
        auto p = cat.photo(o->photo);
        if (!p || p->job_id != job.id) throw std::runtime_error(fmt::format("job {} has no photo {}", job.name, o->photo));
        if (o->cards) cat.release_subject(p->id);
        else cat.assign_subject(p->id, o->unassigned ? std::nullopt : std::optional<std::string>(o->to));
        auto now = *cat.photo(p->id);
        ctx.io.out << fmt::format("photo {}: {}{}\n", now.id, now.subject ? "subject " + *now.subject : "unassigned",
                                  now.subject_manual ? " (by hand, kept when regrouping)" : " (by the cards)");
        return exit_ok;
    });
}

}  // namespace photodrop::ctl
