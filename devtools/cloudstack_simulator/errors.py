"""CloudStack's API errors: the error codes (ApiErrorCode) double as HTTP status codes, and
each error carries the CloudStack exception code (cserrorcode) its exception class maps to."""

UNAUTHORIZED = 401
MALFORMED_PARAMETER_ERROR = 430
PARAM_ERROR = 431
UNSUPPORTED_ACTION_ERROR = 432
INTERNAL_ERROR = 530
ACCOUNT_ERROR = 531
INSUFFICIENT_CAPACITY_ERROR = 533
RESOURCE_UNAVAILABLE_ERROR = 534
RESOURCE_IN_USE_ERROR = 536
NETWORK_RULE_CONFLICT_ERROR = 537

# CSExceptionErrorCode values for the exception classes behind the codes above.
_CS_ERROR_CODES = {
    PARAM_ERROR: 4350,  # InvalidParameterValueException
    INTERNAL_ERROR: 4250,  # CloudRuntimeException
    NETWORK_RULE_CONFLICT_ERROR: 4325,  # NetworkRuleConflictException
    INSUFFICIENT_CAPACITY_ERROR: 4280,  # InsufficientCapacityException
    RESOURCE_UNAVAILABLE_ERROR: 4520,  # ResourceUnavailableException
    RESOURCE_IN_USE_ERROR: 4510,  # ResourceInUseException
}

AUTH_ERROR_TEXT = "unable to verify user credentials and/or request signature"
INTERNAL_ERROR_TEXT = "Internal error executing command, please contact your system administrator"


class ApiError(Exception):
    """An error CloudStack reports to the caller, synchronously or as a failed async job."""

    def __init__(self, code, text, cs_code=None):
        super().__init__(text)
        self.code = int(code)
        self.text = text
        self.cs_code = cs_code if cs_code is not None else _CS_ERROR_CODES.get(self.code, 9999)

    def body(self):
        """The error object CloudStack wraps in ``<command>response``."""
        return {"uuidList": [], "errorcode": self.code, "cserrorcode": self.cs_code, "errortext": self.text}


def param_error(text):
    return ApiError(PARAM_ERROR, text)


def missing_parameter(command, name):
    return param_error(f"Unable to execute API command {command.lower()} due to missing parameter {name}")


def invalid_value(command, name, value):
    return param_error(f"Unable to execute API command {command.lower()} due to invalid value {value} for parameter {name}")


def no_such_entity(command, name, value):
    """What CloudStack says when a UUID parameter names nothing (or nothing of that kind)."""
    return param_error(
        f"Unable to execute API command {command.lower()} due to invalid value. Invalid parameter {name} value={value} "
        "due to incorrect long value format, or entity does not exist or due to incorrect parameter annotation for "
        "the field in api cmd class."
    )
