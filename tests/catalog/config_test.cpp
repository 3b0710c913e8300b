#include "catalog/config.hpp"

#include <doctest/doctest.h>

using namespace photodrop;

TEST_CASE("the configuration file sets keys and names its bad lines") {
    Config c;
    apply_config_text(c,
                      "# photodrop\n"
                      "catalog = /tmp/c.db   # the catalog\n"
                      "ingest_workers = 4\n"
                      "image_extensions = .jpg .cr3\n",
                      "test.conf");
    CHECK(c.catalog == "/tmp/c.db");
    CHECK(c.ingest_workers == 4);
    CHECK(c.image_extensions == std::vector<std::string>{".jpg", ".cr3"});
    CHECK(c.wake_socket() == c.data + "/ingest.sock");
    CHECK_THROWS_WITH(apply_config_text(c, "\nnope = 1\n", "x.conf"), "x.conf:2: unknown setting 'nope'");
    CHECK_THROWS_WITH(apply_config_text(c, "ingest_workers = many\n", "x.conf"), "x.conf:1: 'many' is not a number");
    CHECK_THROWS_WITH(apply_config_text(c, "catalog\n", "x.conf"), "x.conf:1: expected 'key = value'");
}
