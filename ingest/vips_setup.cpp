#include "ingest/vips_setup.hpp"

#include <vips/vips.h>

#include <initializer_list>

namespace photodrop::ingest {

namespace {
void drop_message(const gchar*, GLogLevelFlags, const gchar*, gpointer) {}
}  // namespace

void restrict_vips() {
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoad", TRUE);
    for (const char* loader :
         {"VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadTiff", "VipsForeignLoadHeif",
          "VipsForeignLoadWebp"})
        vips_operation_block_set(loader, FALSE);
    vips_cache_set_max(0);
    // One thread per photo: the workers are the parallelism. A photo's
    // pipeline split over libvips' threads costs as many CPU-seconds and
    // leaves the workers competing for the cores; VIPS_CONCURRENCY still rules.
    if (!g_getenv("VIPS_CONCURRENCY")) vips_concurrency_set(1);
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, drop_message, nullptr);
}

}  // namespace photodrop::ingest
