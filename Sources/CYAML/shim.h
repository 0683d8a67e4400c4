#ifndef DATASAN_CYAML_SHIM_H
#define DATASAN_CYAML_SHIM_H

/* libyaml (Debian libyaml-dev, pkg-config yaml-0.1): the parser under datasan.yml. Only its event
 * parser is used (Sources/DatasanConfig/YAML.swift composes the node tree). */
#include <yaml.h>

#endif
