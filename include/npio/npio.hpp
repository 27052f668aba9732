/// \file npio.hpp
/// The umbrella header: everything npio offers.
#pragma once

#include <npio/array.hpp>
#include <npio/atomic_writer.hpp>
#include <npio/dtype.hpp>
#include <npio/error.hpp>
#include <npio/io.hpp>
#include <npio/npz.hpp>
#include <npio/pickle.hpp>
#include <npio/py/value.hpp>
#include <npio/record.hpp>
#include <npio/rows.hpp>
#include <npio/text.hpp>
#include <npio/visit.hpp>
