/* Call a backend's handler with the thread's profile function switched off.
 *
 * memray follows the Python stack through a profile function, and while one is installed
 * CPython 3.11 materialises a frame object (~150-250 B from pymalloc) for every Python
 * call: bytes a backend never allocates when nothing watches it. memray's allocator hooks
 * do not depend on the profile function, so with it off for the handler's duration every
 * allocation is still recorded -- booked to the caller's frame, which is all the heap
 * split needs -- and none of them is the profiler's.
 *
 * Built at run time by treasure.probes.unwatched; a METH_FASTCALL builtin, so the call
 * itself allocates nothing. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* call(handler, payload, reinstall): handler(payload) with no profile function, then
 * reinstall() -- memray's own re-entry point, which rebuilds its shadow stack from the live
 * frames (memray drops that stack at the first allocation it sees without its profile
 * function) -- and, should reinstall leave none, the saved profile function again. */
static PyObject *call(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "call(handler, payload, reinstall)");
        return NULL;
    }
    PyThreadState *state = PyThreadState_Get();
    Py_tracefunc profile = state->c_profilefunc;
    PyObject *profile_arg = state->c_profileobj;
    Py_XINCREF(profile_arg);
    PyEval_SetProfile(NULL, NULL);
    PyObject *result = PyObject_CallOneArg(args[0], args[1]);
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyObject *reinstalled = profile != NULL ? PyObject_CallNoArgs(args[2]) : Py_NewRef(Py_None);
    if (reinstalled == NULL) {
        PyErr_Clear(); /* the profile function is restored below either way */
    }
    Py_XDECREF(reinstalled);
    if (state->c_profilefunc == NULL && profile != NULL) {
        PyEval_SetProfile(profile, profile_arg);
    }
    Py_XDECREF(profile_arg);
    PyErr_Restore(type, value, traceback);
    return result;
}

static PyMethodDef methods[] = {
    {"call", (PyCFunction)(void (*)(void))call, METH_FASTCALL,
     "call(handler, payload, reinstall): handler(payload) with no profile function"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_treasure_unwatched", NULL, -1,
                                    methods};

PyMODINIT_FUNC PyInit__treasure_unwatched(void) { return PyModule_Create(&module); }
