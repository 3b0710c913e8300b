#pragma once
// libvips as the ingest service uses it. Call restrict_vips() once, after
// VIPS_INIT and before any thread uses libvips.

namespace photodrop::ingest {

// Blocks every untrusted operation and every loader except those for the
// formats SPEC.md accepts (JPEG, PNG, TIFF, HEIF, WebP); turns off the
// operation cache (staging files are renamed and their names reused) and
// libvips' own warnings on stderr (the log line of each upload says why it
// was refused); gives each photo one thread unless VIPS_CONCURRENCY says
// otherwise.
void restrict_vips();

}  // namespace photodrop::ingest
